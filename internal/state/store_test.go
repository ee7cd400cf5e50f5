package state

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

func TestOpenCreatesPrivateFile(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "var", "lib", "syncd")
	path := filepath.Join(dir, "syncd.db")
	s, err := Open(context.Background(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Path() != path {
		t.Errorf("Path = %q, want %q", s.Path(), path)
	}
	for p, want := range map[string]fs.FileMode{path: 0o600, dir: 0o700 | fs.ModeDir} {
		info, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if got := info.Mode(); got != want {
			t.Errorf("mode of %s = %v, want %v", p, got, want)
		}
	}
}

func TestResume(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := newClock()
	path := filepath.Join(t.TempDir(), "syncd.db")
	s, err := Open(ctx, path, Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, bangkok)
	recs := []Record{
		{ID: "a", DataID: "dtac-a", CRKID: "r-a", Step: Done, CallAt: at},
		{ID: "b", DataID: "dtac-b", CRKID: "r-b", Step: ReextractSent, CallAt: at.Add(time.Minute)},
		{ID: "c", DataID: "dtac-c", CRKID: "r-c", Step: Uploaded, CallAt: at.Add(2 * time.Minute), Attempts: 2, LastError: "reextract: 503"},
		{ID: "d", DataID: "dtac-d", Step: Pending, CallAt: at.Add(3 * time.Minute), Attempts: 5, Quarantined: "audio gone (404)"},
	}
	for _, r := range recs {
		mustPut(t, s, "dtac", r)
	}
	cursor := at.Add(-2 * time.Hour)
	if err := s.SetCursor(ctx, "dtac", cursor); err != nil {
		t.Fatal(err)
	}
	if err := s.SetLastSuccess(ctx, "dtac", clk.Now()); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}

	for _, ro := range []bool{false, true} {
		t.Run(fmt.Sprintf("readOnly=%t", ro), func(t *testing.T) {
			s, err := Open(ctx, path, Options{ReadOnly: ro, Now: clk.Now})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			got, err := s.GetMany(ctx, "dtac", []string{"a", "b", "c", "d"})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range recs {
				want := r
				want.FirstSeen, want.Updated = clk.Now(), clk.Now()
				assertRecord(t, got[r.ID], want)
			}
			sum := mustSummary(t, s, "dtac")
			want := Summary{Source: "dtac", Cursor: cursor, LastSuccess: clk.Now(), Done: 1, Pending: 2, Quarantined: 1}
			if !sum.Cursor.Equal(want.Cursor) || !sum.LastSuccess.Equal(want.LastSuccess) || countsOf(sum) != countsOf(want) {
				t.Errorf("Summary = %+v, want %+v", sum, want)
			}
			pending, err := s.Pending(ctx, "dtac")
			if err != nil || len(pending) != 2 || pending[0].ID != "b" || pending[0].Step != ReextractSent || pending[1].ID != "c" {
				t.Errorf("Pending = %+v, %v; want b (reextract sent: do not re-send) then c", pending, err)
			}
		})
	}
}

func TestReadOnly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()

	t.Run("missing file", func(t *testing.T) {
		path := filepath.Join(dir, "missing", "syncd.db")
		_, err := Open(ctx, path, Options{ReadOnly: true})
		wantErrIs(t, err, ErrNoState)
		wantErrIs(t, err, fs.ErrNotExist)
		if want := "state file " + path + " does not exist: no syncd has run with this SYNCD_STATE_PATH yet"; err.Error() != want {
			t.Errorf("error = %q, want %q", err, want)
		}
		if _, err := os.Stat(filepath.Dir(path)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("read-only Open created %s", filepath.Dir(path))
		}
	})

	t.Run("empty file", func(t *testing.T) {
		path := filepath.Join(dir, "empty.db")
		if err := os.WriteFile(path, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := Open(ctx, path, Options{ReadOnly: true})
		wantErrIs(t, err, ErrNoState)
		if want := "state file " + path + " is empty: no syncd has written it yet"; err.Error() != want {
			t.Errorf("error = %q, want %q", err, want)
		}
	})

	t.Run("writes refused", func(t *testing.T) {
		path := filepath.Join(dir, "ro.db")
		s, err := Open(ctx, path, Options{})
		if err != nil {
			t.Fatal(err)
		}
		mustPut(t, s, "dtac", Record{ID: "a", Quarantined: "x"})
		s.Close()
		s, err = Open(ctx, path, Options{ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		wantErrIs(t, s.Put(ctx, "dtac", Record{ID: "b"}), berrors.ErrDatabaseReadOnly)
		wantErrIs(t, s.SetCursor(ctx, "dtac", time.Now()), berrors.ErrDatabaseReadOnly)
		_, err = s.RetryQuarantined(ctx, Selection{})
		wantErrIs(t, err, berrors.ErrDatabaseReadOnly)
		_, err = s.Prune(ctx, "", time.Now())
		wantErrIs(t, err, berrors.ErrDatabaseReadOnly)
	})

	t.Run("two readers at once", func(t *testing.T) {
		path := filepath.Join(dir, "ro.db")
		r1, err := Open(ctx, path, Options{ReadOnly: true, Timeout: 100 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		defer r1.Close()
		r2, err := Open(ctx, path, Options{ReadOnly: true, Timeout: 100 * time.Millisecond})
		if err != nil {
			t.Fatalf("second reader: %v", err)
		}
		defer r2.Close()
		if got := mustSummary(t, r2, "dtac").Quarantined; got != 1 {
			t.Errorf("quarantined = %d, want 1", got)
		}
	})
}

func TestEmptyFileIsInitialised(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "syncd.db")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := Open(context.Background(), path, Options{})
	if err != nil {
		t.Fatalf("Open of an empty file: %v", err)
	}
	mustPut(t, s, "dtac", Record{ID: "a"})
	s.Close()
	s, err = Open(context.Background(), path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := mustSummary(t, s, "dtac").Pending; got != 1 {
		t.Errorf("pending = %d, want 1", got)
	}
}

// TestLocked covers a second Open of a file another Store holds. bbolt's
// locks are flock(2) locks, which conflict between two opens of the file
// even within one process, so this is what another process sees too
// (TestLockedAcrossProcesses).
func TestLocked(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "syncd.db")
	holder, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	const timeout = 200 * time.Millisecond
	for _, ro := range []bool{false, true} {
		t.Run(fmt.Sprintf("readOnly=%t", ro), func(t *testing.T) {
			start := time.Now()
			_, err := Open(ctx, path, Options{ReadOnly: ro, Timeout: timeout})
			elapsed := time.Since(start)
			assertLocked(t, err, path, "200ms")
			if elapsed < timeout/2 || elapsed > timeout+2*time.Second {
				t.Errorf("gave up after %v, want about %v", elapsed, timeout)
			}
		})
	}

	t.Run("context deadline shortens the wait", func(t *testing.T) {
		dctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := Open(dctx, path, Options{Timeout: time.Hour})
		wantErrIs(t, err, ErrLocked)
		if elapsed := time.Since(start); elapsed > 2*time.Second {
			t.Errorf("gave up after %v, want about 100ms", elapsed)
		}
	})

	if err := holder.Close(); err != nil {
		t.Fatal(err)
	}
	for _, ro := range []bool{false, true} {
		s, err := Open(ctx, path, Options{ReadOnly: ro, Timeout: timeout})
		if err != nil {
			t.Fatalf("Open(readOnly=%t) after the holder closed: %v", ro, err)
		}
		s.Close()
	}
}

func assertLocked(t *testing.T, err error, path, waited string) {
	t.Helper()
	wantErrIs(t, err, ErrLocked)
	want := "state file " + path + " is in use by another syncd process (is the daemon running?) and stayed locked for " + waited + ": " +
		"stop it (systemctl stop syncd, or docker stop) or wait until it has closed the file, then try again; " +
		"while one process has the file open for writing no other can open it, not even read-only for -status"
	if err.Error() != want {
		t.Errorf("error = %q\nwant    %q", err, want)
	}
}

func TestOpenCancelled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	path := filepath.Join(t.TempDir(), "syncd.db")
	_, err := Open(ctx, path, Options{})
	wantErrIs(t, err, context.Canceled)
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Error("cancelled Open created the file")
	}
}

func TestOpenDirectory(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	_, err := Open(context.Background(), dir, Options{})
	if want := "open state file " + dir + ": is a directory, not a file"; err == nil || err.Error() != want {
		t.Errorf("Open(dir) = %v, want %q", err, want)
	}
}

// realFile writes a store of n records and returns its bytes and its
// high-water mark (the size its meta page says).
func realFile(t *testing.T, n int) ([]byte, int64) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "real.db")
	s, err := Open(context.Background(), path, Options{Now: newClock().Now})
	if err != nil {
		t.Fatal(err)
	}
	fill(t, s, "dtac", n, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	var hwm int64
	if err := s.db.View(func(tx *bolt.Tx) error { hwm = tx.Size(); return nil }); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b, hwm
}

func TestCorrupt(t *testing.T) {
	t.Parallel()
	real, hwm := realFile(t, 2000)
	const page = 4096 // bbolt's default page size on linux/amd64
	if hwm <= 4*page || int64(len(real)) < hwm {
		t.Fatalf("test file too small: hwm %d, size %d", hwm, len(real))
	}
	garbage := make([]byte, 64<<10)
	for i := range garbage {
		garbage[i] = byte(i*7 + i>>8)
	}
	// withMeta changes field off of both meta pages (after the 16-byte
	// page header) to v.
	withMeta := func(off int, v uint32) []byte {
		b := bytes.Clone(real)
		for _, p := range []int{0, page} {
			binary.LittleEndian.PutUint32(b[p+16+off:], v)
		}
		return b
	}
	damaged := bytes.Clone(real)
	for i := 2 * page; i < len(damaged); i++ {
		damaged[i] = 0xff
	}

	for _, tc := range []struct {
		name  string
		data  []byte
		cause string // "" when it is a bbolt panic message
	}{
		{"text", []byte("this is not a bbolt file, it is a shopping list\n"), "invalid database"},
		{"garbage", garbage, "invalid database"},
		{"truncated to a few bytes", real[:100], "invalid database"},
		{"truncated within the meta pages", real[:5000], "file size too small 5000"},
		{"truncated to half", real[:hwm/2], fmt.Sprintf("truncated: the file is %d bytes but its meta page says %d", hwm/2, hwm)},
		{"truncated by one page", real[:hwm-page], fmt.Sprintf("truncated: the file is %d bytes but its meta page says %d", hwm-page, hwm)},
		{"bad meta checksums", withMeta(56, 0xdead), "checksum error"},
		{"other bbolt version", withMeta(4, 1), "version mismatch"},
		{"damaged pages", damaged, ""},
	} {
		for _, ro := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/readOnly=%t", tc.name, ro), func(t *testing.T) {
				path := filepath.Join(t.TempDir(), "syncd.db")
				if err := os.WriteFile(path, tc.data, 0o600); err != nil {
					t.Fatal(err)
				}
				// Twice: a failed Open must let go of the file (a leaked
				// lock would make the second one ErrLocked).
				for range 2 {
					_, err := Open(context.Background(), path, Options{ReadOnly: ro, Timeout: 100 * time.Millisecond})
					assertCorrupt(t, err, path, tc.cause)
				}
				after, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(after, tc.data) {
					t.Error("a failed Open changed the file")
				}
			})
		}
	}
}

// assertCorrupt checks err's text; cause "" stands for a bbolt panic.
func assertCorrupt(t *testing.T, err error, path, cause string) {
	t.Helper()
	assertCorruptIn(t, err, "", path, cause)
}

// assertCorruptIn is assertCorrupt for an error that says first what
// failed (op).
func assertCorruptIn(t *testing.T, err error, op, path, cause string) {
	t.Helper()
	wantErrIs(t, err, ErrCorrupt)
	prefix := op + "state file " + path + " is corrupt ("
	suffix := "): move it aside (mv " + path + " " + path + ".corrupt) and start syncd again; " +
		"the first pass then looks back SYNCD_BACKFILL and checks with CRK which of those recordings it already " +
		"processed (this needs a token with view_recording_all), so that none is paid for twice"
	if cause != "" {
		if want := prefix + cause + suffix; err.Error() != want {
			t.Errorf("error = %q\nwant    %q", err, want)
		}
		return
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, prefix+"bbolt panicked: ") || !strings.HasSuffix(msg, suffix) {
		t.Errorf("error = %q, want %q…%q", msg, prefix+"bbolt panicked: ", suffix)
	}
}

// TestTruncatedTailBeyondData: bbolt grows its file ahead of the data; a
// file cut back to its high-water mark has lost nothing.
func TestTruncatedTailBeyondData(t *testing.T) {
	t.Parallel()
	real, hwm := realFile(t, 2000)
	path := filepath.Join(t.TempDir(), "syncd.db")
	if err := os.WriteFile(path, real[:hwm], 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := Open(context.Background(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got, want := countsOf(mustSummary(t, s, "dtac")), fillCounts(2000); got != want {
		t.Errorf("counts = %+v, want %+v", got, want)
	}
	assertListsMatchCounts(t, s, "dtac")
}

// TestDamagedRecordPage: damage that Open does not look at (it reads no
// records) surfaces as ErrCorrupt from the read that meets it, not as a
// crash.
func TestDamagedRecordPage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	real, _ := realFile(t, 2000)
	const page = 4096
	marker := []byte("dtac-rec-0001234")
	at := bytes.Index(real, marker)
	if at < 0 {
		t.Fatal("marker not in file")
	}
	damaged := bytes.Clone(real)
	for i := at / page * page; i < (at/page+1)*page; i++ {
		damaged[i] = 0xff
	}
	path := filepath.Join(t.TempDir(), "syncd.db")
	if err := os.WriteFile(path, damaged, 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := Open(ctx, path, Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	_, _, err = s.Get(ctx, "dtac", "rec-0001234")
	assertCorruptIn(t, err, "get record dtac/rec-0001234: ", path, "")
	_, err = s.Pending(ctx, "dtac")
	assertCorruptIn(t, err, "list pending records of dtac: ", path, "")
	if got, want := countsOf(mustSummary(t, s, "dtac")), fillCounts(2000); got != want {
		t.Errorf("Summary, which does not touch the damaged page = %+v, want %+v", got, want)
	}
}

func TestSchema(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		setup func(tx *bolt.Tx) error
		want  string // "" = opens; %[1]s is the path
	}{
		{"new bbolt file", func(*bolt.Tx) error { return nil }, ""},
		{"current", schemaSetup(fmt.Sprint(Schema)), ""},
		{"newer", schemaSetup("2"),
			"state file %[1]s has schema 2, newer than this syncd understands (1): upgrade syncd to the version that wrote it"},
		{"older", schemaSetup("0"),
			"state file %[1]s has schema 0, which this syncd cannot migrate (it reads 1): move it aside (mv %[1]s %[1]s.old) and start syncd again"},
		{"unreadable", schemaSetup("one"),
			`state file %[1]s has an unreadable schema version "one": move it aside (mv %[1]s %[1]s.old) and start syncd again`},
		{"missing", schemaSetup(""),
			`state file %[1]s has an unreadable schema version "": move it aside (mv %[1]s %[1]s.old) and start syncd again`},
		{"someone else's", func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("users")); return err },
			`state file %[1]s is a bbolt file but not syncd's (it has a "users" bucket and no "meta"): check SYNCD_STATE_PATH`},
	} {
		for _, ro := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/readOnly=%t", tc.name, ro), func(t *testing.T) {
				ctx := context.Background()
				path := filepath.Join(t.TempDir(), "syncd.db")
				db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
				if err != nil {
					t.Fatal(err)
				}
				if err := db.Update(tc.setup); err != nil {
					t.Fatal(err)
				}
				if err := db.Close(); err != nil {
					t.Fatal(err)
				}
				s, err := Open(ctx, path, Options{ReadOnly: ro})
				if tc.want != "" {
					wantErrIs(t, err, ErrSchema)
					if want := fmt.Sprintf(tc.want, path); err.Error() != want {
						t.Errorf("error = %q\nwant    %q", err, want)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				defer s.Close()
				if names, err := s.Sources(ctx); err != nil || len(names) != 0 {
					t.Errorf("Sources = %q, %v", names, err)
				}
				if _, ok, err := s.Get(ctx, "dtac", "a"); ok || err != nil {
					t.Errorf("Get = %v, %v", ok, err)
				}
				if !ro {
					mustPut(t, s, "dtac", Record{ID: "a"})
					s.Close()
					assertSchema(t, path, fmt.Sprint(Schema))
				}
			})
		}
	}
}

func schemaSetup(v string) func(tx *bolt.Tx) error {
	return func(tx *bolt.Tx) error {
		b, err := tx.CreateBucket([]byte("meta"))
		if err != nil || v == "" {
			return err
		}
		return b.Put([]byte("schema"), []byte(v))
	}
}

func assertSchema(t *testing.T, path, want string) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var got string
	_ = db.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket([]byte("meta")); b != nil {
			got = string(b.Get([]byte("schema")))
		}
		return nil
	})
	if got != want {
		t.Errorf("schema on disk = %q, want %q", got, want)
	}
}

// TestDamagedFreelist: a read-write open reads the freelist, which
// read-only opens and Open's check do not; bbolt panics on a damaged one
// after it has locked the file. Open must report it and let go of the
// file.
func TestDamagedFreelist(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	real, _ := realFile(t, 2000)
	const page = 4096
	damaged := bytes.Clone(real)
	for _, m := range []int{0, page} {
		fl := int(binary.LittleEndian.Uint64(real[m+16+32:])) // meta.freelist
		for i := fl * page; i < (fl+1)*page; i++ {
			damaged[i] = 0xff
		}
	}
	path := filepath.Join(t.TempDir(), "syncd.db")
	if err := os.WriteFile(path, damaged, 0o600); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		_, err := Open(ctx, path, Options{Timeout: 100 * time.Millisecond})
		assertCorrupt(t, err, path, "")
	}
	s, err := Open(ctx, path, Options{ReadOnly: true, Timeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatalf("read-only Open, which does not read the freelist: %v", err)
	}
	defer s.Close()
	if got, want := countsOf(mustSummary(t, s, "dtac")), fillCounts(2000); got != want {
		t.Errorf("counts = %+v, want %+v", got, want)
	}
}
