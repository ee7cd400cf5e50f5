package phone

import "testing"

func TestE164(t *testing.T) {
	for _, tc := range []struct{ in, region, want string }{
		{"0812345678", "TH", "+66812345678"},
		{"66812345678", "TH", "+66812345678"},
		{"+66812345678", "TH", "+66812345678"},
		{"+66 81-234-5678", "TH", "+66812345678"},
		{"081-234-5678", "TH", "+66812345678"},
		{"(081) 234 5678", "TH", "+66812345678"},
		{"021234567", "TH", "+6621234567"},
		{"02-123-4567", "TH", "+6621234567"},
		{"6621234567", "TH", "+6621234567"},
		{"+6621234567", "TH", "+6621234567"},
		{"00166812345678", "TH", "+66812345678"}, // Thailand's international prefix is 001
		{"4155550123", "US", "+14155550123"},
		{"14155550123", "TH", "+14155550123"},
		{"Ext.101", "TH", "Ext.101"},
		{"101", "TH", "101"},
		{" anonymous ", "TH", "anonymous"},
		{"", "TH", ""},
	} {
		if got := E164(tc.in, tc.region); got != tc.want {
			t.Errorf("E164(%q, %q) = %q, want %q", tc.in, tc.region, got, tc.want)
		}
	}
}

func FuzzE164(f *testing.F) {
	for _, s := range []string{"0812345678", "+66 81-234-5678", "Ext.101", "++", "0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_ = E164(s, "TH")
	})
}

func TestMask(t *testing.T) {
	for in, want := range map[string]string{
		"+66812345678": "+66812***678",
		"+6621234567":  "+66212***567",
		"0812345678":   "08123***678",
		"12345678":     "123***678",
		"101":          "101",
		"Ext.101":      "Ext.101",
		"":             "",
	} {
		if got := Mask(in); got != want {
			t.Errorf("Mask(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMaskText(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`timestamp "+66812345678" is not a time`, `timestamp "+66812***678" is not a time`},
		{"called 0812345678 twice", "called 08123***678 twice"},
		{"dtac-1700000000.123 and 3cx-pbx-123456789 and orkweb-host-00012", "dtac-1700000000.123 and 3cx-pbx-123456789 and orkweb-host-00012"},
		{"extension 101", "extension 101"},
		{"", ""},
	} {
		if got := MaskText(tc.in); got != tc.want {
			t.Errorf("MaskText(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
