package fakecrk

// The fixture: three businesses and a key of every kind, the set that the
// tests of the fake and of CRK's clients share (Fixture, StartFixture).
const (
	BizA = "b1000000-0000-4000-8000-00000000000a" // Acme Sales
	BizB = "b2000000-0000-4000-8000-00000000000b" // Acme Support
	BizC = "b3000000-0000-4000-8000-00000000000c" // Other Co

	TokFull        = "crk_full_a1b2c3d4e5f6"    // business A: ingest + view all
	TokIngest      = "crk_ingest_d4e5f6a7b8c9"  // business A: ingest only
	TokView        = "crk_view_0a0b0c0d0e0f"    // business A: view all only
	TokSelf        = "crk_self_1a1b1c1d1e1f"    // business A: view self only, user u1
	TokNone        = "crk_none_2a2b2c2d2e2f"    // business A: no scope
	TokOff         = "crk_off_3a3b3c3d3e3f"     // business A: revoked
	TokOld         = "crk_old_4a4b4c4d4e4f"     // business A: whoami without level
	TokB           = "crk_b_5a5b5c5d5e5f"       // business B: ingest + view all
	TokAccount     = "crk_account_6a6b6c6d6e6f" // account key of u1: A and B
	TokOther       = "crk_account_7a7b7c7d7e7f" // account key of u2: C only
	TokAccountView = "crk_accview_8a8b8c8d8e8f" // account key of u1 with view_recording_all only
	TokLonely      = "crk_lonely_9a9b9c9d9e9f"  // account key of u3: no business
	TokWrong       = "crk_notakey_5d4c3b2a1f0e" // known to nobody
)

// FixtureTokens are every key of the fixture, TokWrong included: none may
// appear in an error or a log.
var FixtureTokens = []string{
	TokFull, TokIngest, TokView, TokSelf, TokNone, TokOff, TokOld, TokB,
	TokAccount, TokOther, TokAccountView, TokLonely, TokWrong,
}

// Fixture returns the options of a fake holding the fixture: businesses A,
// B and C; user u1 a member of A, B and a business that no longer exists,
// u2 of C, u3 of none; the keys above. The clock is the real one.
func Fixture() Options {
	return Options{
		Businesses: []Business{
			{ID: BizA, Name: "Acme Sales", Slug: "acme-sales"},
			{ID: BizB, Name: "Acme Support", Slug: "acme-support"},
			{ID: BizC, Name: "Other Co", Slug: "other-co"},
		},
		Tokens: map[string]Token{
			TokFull:        {BusinessID: BizA, Scopes: []string{ScopeManageCall, ScopeViewAll}},
			TokIngest:      {BusinessID: BizA, Scopes: []string{ScopeManageCall}},
			TokView:        {BusinessID: BizA, Scopes: []string{ScopeViewAll}},
			TokSelf:        {BusinessID: BizA, Scopes: []string{ScopeViewSelf}, UserID: "u1"},
			TokNone:        {BusinessID: BizA},
			TokOff:         {BusinessID: BizA, Scopes: []string{ScopeManageCall}, Disabled: true},
			TokOld:         {BusinessID: BizA, Scopes: []string{ScopeManageCall}, OmitLevel: true},
			TokB:           {BusinessID: BizB, Scopes: []string{ScopeManageCall, ScopeViewAll}},
			TokAccount:     {Level: LevelAccount, UserID: "u1"},
			TokOther:       {Level: LevelAccount, UserID: "u2"},
			TokAccountView: {Level: LevelAccount, UserID: "u1", Scopes: []string{ScopeViewAll}},
			TokLonely:      {Level: LevelAccount, UserID: "u3"},
		},
		Members: map[string][]string{"u1": {BizA, BizB, "gone-business"}, "u2": {BizC}},
	}
}

// StartFixture starts a fake holding Fixture, after edit (when not nil)
// adjusted its options.
func StartFixture(edit func(*Options)) (*Server, error) {
	opts := Fixture()
	if edit != nil {
		edit(&opts)
	}
	return Start(opts)
}
