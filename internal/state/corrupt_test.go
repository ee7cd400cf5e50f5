package state

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

// Damaged state files: whatever the damage, Open or the first read or write
// that meets it returns ErrCorrupt naming the file, and the process never
// crashes (a fault or a panic in bbolt) or hangs.

var (
	cursorOld = time.Date(2026, 2, 27, 0, 0, 0, 0, time.UTC)
	cursorNew = time.Date(2026, 2, 28, 0, 0, 0, 0, time.UTC)
)

// buildFile writes a store with n records of dtac (see fill), two of 3cx,
// an incident and a queued alert, and last of all, in a transaction of its
// own, moves dtac's cursor from cursorOld to cursorNew. It returns the
// file's bytes.
func buildFile(tb testing.TB, n int) []byte {
	tb.Helper()
	ctx := context.Background()
	path := filepath.Join(tb.TempDir(), "build.db")
	s, err := Open(ctx, path, Options{Now: newClock().Now})
	if err != nil {
		tb.Fatal(err)
	}
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	fill(tb, s, "dtac", n, base)
	if err := s.PutMany(ctx, "3cx", []Record{fillRecord(1, base), fillRecord(50, base)}); err != nil {
		tb.Fatal(err)
	}
	err = s.UpdateAlerts(ctx, func(tx *AlertTx) error {
		if err := tx.Put("incidents", "dtac", []byte(`{"n":3,"s":"2026-01-01T00:00:00Z","e":"login refused"}`)); err != nil {
			return err
		}
		_, err := tx.Enqueue([]byte(`{"k":"dtac","kind":"source_down","sev":"critical","t":"dtac is down","b":""}`))
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	if err := s.SetLastSuccess(ctx, "dtac", base); err != nil {
		tb.Fatal(err)
	}
	if err := s.SetCursor(ctx, "dtac", cursorOld); err != nil {
		tb.Fatal(err)
	}
	if err := s.SetCursor(ctx, "dtac", cursorNew); err != nil {
		tb.Fatal(err)
	}
	if err := s.Close(); err != nil {
		tb.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// fileLayout is what the tests need to know of a bbolt file's bytes.
type fileLayout struct {
	pageSize int
	hwm      int // pages in use, per the newer meta page
	newer    int // the meta page (0 or 1) with the higher transaction id
	freelist int
}

func layoutOf(tb testing.TB, b []byte) fileLayout {
	tb.Helper()
	ps := int(binary.LittleEndian.Uint32(b[pageHeaderSize+8:]))
	meta := func(i int) []byte { return b[i*ps+pageHeaderSize:] }
	l := fileLayout{pageSize: ps}
	if binary.LittleEndian.Uint64(meta(1)[48:]) > binary.LittleEndian.Uint64(meta(0)[48:]) {
		l.newer = 1
	}
	l.hwm = int(binary.LittleEndian.Uint64(meta(l.newer)[40:]))
	l.freelist = int(binary.LittleEndian.Uint64(meta(l.newer)[32:]))
	return l
}

func (l fileLayout) flags(b []byte, id int) uint16 {
	return binary.LittleEndian.Uint16(b[id*l.pageSize+8:])
}

// pagesOf lists the pages with the given flags (pageBranch, pageLeaf) that
// are reached from the tree, whose first key has prefix. Free pages keep
// their old contents, so candidates are checked against the freelist.
func (l fileLayout) pagesOf(b []byte, flags uint16, prefix string) []int {
	free := map[int]bool{}
	fl := b[l.freelist*l.pageSize:]
	n, start := int(binary.LittleEndian.Uint16(fl[10:])), pageHeaderSize
	if n == 0xFFFF {
		n, start = int(binary.LittleEndian.Uint64(fl[pageHeaderSize:])), pageHeaderSize+8
	}
	for i := range n {
		free[int(binary.LittleEndian.Uint64(fl[start+8*i:]))] = true
	}
	var out []int
	for id := 2; id < l.hwm; id++ {
		p := b[id*l.pageSize:]
		if free[id] || id == l.freelist || l.flags(b, id) != flags || binary.LittleEndian.Uint16(p[10:]) == 0 ||
			binary.LittleEndian.Uint64(p) != uint64(id) {
			continue
		}
		off := pageHeaderSize
		pos, ksize := binary.LittleEndian.Uint32(p[off+4:]), binary.LittleEndian.Uint32(p[off+8:])
		if flags == pageBranch {
			pos, ksize = binary.LittleEndian.Uint32(p[off:]), binary.LittleEndian.Uint32(p[off+4:])
		}
		if key := p[off+int(pos):][:ksize]; bytes.HasPrefix(key, []byte(prefix)) {
			out = append(out, id)
		}
	}
	return out
}

// damage returns a copy of b changed by fn.
func damage(b []byte, fn func(d []byte)) []byte {
	d := bytes.Clone(b)
	fn(d)
	return d
}

// assertCorruptFile checks that err is ErrCorrupt, names path and says
// what to do, whatever it says first.
func assertCorruptFile(t testing.TB, err error, path string) {
	t.Helper()
	if !errors.Is(err, ErrCorrupt) {
		t.Fatalf("error = %v, want one wrapping ErrCorrupt", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "state file "+path+" is corrupt (") ||
		!strings.Contains(msg, "move it aside (mv "+path+" "+path+".corrupt)") {
		t.Fatalf("error = %q, want it to name %s and say to move it aside", msg, path)
	}
}

// touchAll reads everything the store holds for n records of dtac and
// two of 3cx and, unless the store is read-only, writes every record back,
// and returns the first error.
func touchAll(ctx context.Context, s *Store, n int) error {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	sources, err := s.Sources(ctx)
	if err != nil {
		return err
	}
	for _, src := range append(sources, "dtac", "3cx") {
		if _, err := s.Summary(ctx, src); err != nil {
			return err
		}
		if _, _, err := s.Cursor(ctx, src); err != nil {
			return err
		}
		if _, err := s.Pending(ctx, src); err != nil {
			return err
		}
		if _, err := s.Quarantined(ctx, src); err != nil {
			return err
		}
	}
	ids := make([]string, n)
	recs := make([]Record, n)
	for i := range n {
		recs[i] = fillRecord(i, base)
		ids[i] = recs[i].ID
	}
	if _, err := s.GetMany(ctx, "dtac", ids); err != nil {
		return err
	}
	if _, err := s.GetMany(ctx, "3cx", ids[:min(n, 51)]); err != nil {
		return err
	}
	err = s.ViewAlerts(ctx, func(tx *AlertTx) error {
		if _, err := tx.Records("incidents"); err != nil {
			return err
		}
		_, err := tx.Queue()
		return err
	})
	if err != nil || s.readOnly {
		return err
	}
	if err := s.PutMany(ctx, "dtac", recs); err != nil {
		return err
	}
	return s.SetCursor(ctx, "3cx", cursorNew)
}

func TestDamagedFilesAreRefused(t *testing.T) {
	t.Parallel()
	const n = 3000
	real := buildFile(t, n)
	l := layoutOf(t, real)
	ps := l.pageSize
	branches := l.pagesOf(real, pageBranch, "rec-")
	leaves := l.pagesOf(real, pageLeaf, "rec-")
	if len(branches) == 0 || len(leaves) < 10 {
		t.Fatalf("test file has %d branch and %d leaf pages of records; want some", len(branches), len(leaves))
	}
	branch, leaf := branches[0], leaves[len(leaves)/2]
	// A branch element's fields: pos, ksize u32, pgid u64.
	branchElem := func(d []byte, i int) []byte { return d[branch*ps+pageHeaderSize+i*pageElementSize:] }

	for _, tc := range []struct {
		name string
		data []byte
		// atOpen: a read-write Open refuses the file (it reads every
		// page); else the first read or write that meets the damage does.
		atOpen bool
		// atOpenRO: so does a read-only Open (see verify).
		atOpenRO bool
		// readsFine: the damage is where reads never look (the freelist,
		// a page's overflow count), so a read-only store works.
		readsFine bool
	}{
		{name: "bytes flipped in the middle of a record page", data: damage(real, func(d []byte) {
			for i := leaf*ps + ps/2; i < leaf*ps+ps/2+16; i++ {
				d[i] ^= 0xff
			}
		})},
		{name: "record page overwritten with garbage", data: damage(real, func(d []byte) {
			for i := leaf * ps; i < (leaf+1)*ps; i++ {
				d[i] = byte(i*7 + i>>8)
			}
		}), atOpen: true},
		{name: "element of a record page pointing far outside it", data: damage(real, func(d []byte) {
			binary.LittleEndian.PutUint32(d[leaf*ps+pageHeaderSize+4:], 0x7fff0000)
		}), atOpen: true},
		{name: "record page's count too large", data: damage(real, func(d []byte) {
			binary.LittleEndian.PutUint16(d[leaf*ps+10:], 0xfff0)
		}), atOpen: true},
		{name: "record page's overflow past the end", data: damage(real, func(d []byte) {
			binary.LittleEndian.PutUint32(d[leaf*ps+12:], 0xfffffff0)
		}), atOpen: true, readsFine: true},
		{name: "branch page garbled", data: damage(real, func(d []byte) {
			for i := branch*ps + pageHeaderSize; i < (branch+1)*ps; i++ {
				d[i] = byte(i*13 + 5)
			}
		}), atOpen: true},
		{name: "branch page pointing to itself", data: damage(real, func(d []byte) {
			binary.LittleEndian.PutUint64(branchElem(d, 1)[8:], uint64(branch))
		}), atOpen: true, atOpenRO: true},
		{name: "two branch elements pointing to one page", data: damage(real, func(d []byte) {
			copy(branchElem(d, 1)[8:16], branchElem(d, 0)[8:16])
		}), atOpen: true, atOpenRO: true},
		{name: "branch page pointing past the end", data: damage(real, func(d []byte) {
			binary.LittleEndian.PutUint64(branchElem(d, 0)[8:], uint64(l.hwm+1000))
		}), atOpen: true},
		{name: "branch keys out of order", data: damage(real, func(d []byte) {
			e := branchElem(d, 1)
			d[branch*ps+pageHeaderSize+pageElementSize+int(binary.LittleEndian.Uint32(e))] = 0 // its key's first byte
		}), atOpen: true},
		{name: "freelist listing a page in use", data: damage(real, func(d []byte) {
			fl := d[l.freelist*ps:]
			binary.LittleEndian.PutUint16(fl[10:], 1)
			binary.LittleEndian.PutUint64(fl[pageHeaderSize:], uint64(leaf))
		}), atOpen: true, readsFine: true},
		{name: "freelist counting more than it holds", data: damage(real, func(d []byte) {
			fl := d[l.freelist*ps:]
			binary.LittleEndian.PutUint16(fl[10:], 0xFFFF)
			binary.LittleEndian.PutUint64(fl[pageHeaderSize:], 1<<40)
		}), atOpen: true, readsFine: true},
		{name: "truncated to half", data: real[:l.hwm*ps/2], atOpen: true, atOpenRO: true},
		{name: "truncated to three pages", data: real[:3*ps], atOpen: true, atOpenRO: true},
		{name: "truncated by one page", data: real[:(l.hwm-1)*ps], atOpen: true, atOpenRO: true},
		{name: "both meta pages zeroed", data: damage(real, func(d []byte) { clear(d[:2*ps]) }), atOpen: true, atOpenRO: true},
	} {
		for _, ro := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/readOnly=%t", tc.name, ro), func(t *testing.T) {
				t.Parallel()
				ctx := t.Context()
				path := filepath.Join(t.TempDir(), "syncd.db")
				if err := os.WriteFile(path, tc.data, 0o600); err != nil {
					t.Fatal(err)
				}
				s, err := Open(ctx, path, Options{ReadOnly: ro, Timeout: 100 * time.Millisecond})
				if (ro && tc.atOpenRO) || (!ro && tc.atOpen) {
					if err == nil {
						s.Close()
						t.Fatal("Open accepted the file")
					}
					assertCorruptFile(t, err, path)
					return
				}
				if err != nil {
					assertCorruptFile(t, err, path)
					return
				}
				defer s.Close()
				err = touchAll(ctx, s, n)
				if ro && tc.readsFine {
					if err != nil {
						t.Fatalf("reading a file damaged where reads do not look: %v", err)
					}
					return
				}
				if err == nil {
					t.Fatal("the store read (and wrote) everything without noticing the damage")
				}
				assertCorruptFile(t, err, path)
			})
		}
	}
}

// TestSoundFilesPass: files that have been through every kind of write
// (pages split, merged by deletions, freed and reused, buckets growing out
// of their inline page and alerts queued and delivered) open for writing
// and reading after every round.
func TestSoundFilesPass(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "syncd.db")
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for round := range 6 {
		s, err := Open(ctx, path, Options{Now: newClock().Now})
		if err != nil {
			t.Fatalf("round %d: Open: %v", round, err)
		}
		fill(t, s, "dtac", 4000, base.Add(time.Duration(round)*40*24*time.Hour))
		if _, err := s.Prune(ctx, "dtac", base.Add(time.Duration(round)*40*24*time.Hour+time.Duration(round*500)*time.Minute)); err != nil {
			t.Fatal(err)
		}
		if err := s.PutMany(ctx, fmt.Sprintf("src%d", round%3), []Record{fillRecord(round, base)}); err != nil {
			t.Fatal(err)
		}
		err = s.UpdateAlerts(ctx, func(tx *AlertTx) error {
			for i := range round * 40 {
				if _, err := tx.Enqueue(fmt.Appendf(nil, `{"k":"dtac","kind":"quarantine","t":"%d","b":"%s"}`, i, strings.Repeat("x", 200))); err != nil {
					return err
				}
			}
			ds, err := tx.Queue()
			for _, d := range ds[:len(ds)/2] {
				if err := tx.Dequeue(d.ID); err != nil {
					return err
				}
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		ro, err := Open(ctx, path, Options{ReadOnly: true})
		if err != nil {
			t.Fatalf("round %d: read-only Open: %v", round, err)
		}
		ro.Close()
	}
}

// TestOneDamagedMetaPage: bbolt keeps two meta pages and writes them in
// turn, so that a commit torn by a power cut leaves the previous one. A
// zeroed meta page is such a tear: the file opens as of the other one.
func TestOneDamagedMetaPage(t *testing.T) {
	t.Parallel()
	real := buildFile(t, 200)
	l := layoutOf(t, real)
	for meta := range 2 {
		t.Run(fmt.Sprintf("meta %d zeroed", meta), func(t *testing.T) {
			ctx := t.Context()
			path := filepath.Join(t.TempDir(), "syncd.db")
			if err := os.WriteFile(path, damage(real, func(d []byte) { clear(d[meta*l.pageSize : (meta+1)*l.pageSize]) }), 0o600); err != nil {
				t.Fatal(err)
			}
			s, err := Open(ctx, path, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			// The last transaction moved the cursor: without the newer
			// meta page the file is as it was before it.
			want := cursorNew
			if meta == l.newer {
				want = cursorOld
			}
			if c, _, err := s.Cursor(ctx, "dtac"); err != nil || !c.Equal(want) {
				t.Errorf("cursor = %v, %v; want %v", c, err, want)
			}
			if err := touchAll(ctx, s, 200); err != nil {
				t.Fatal(err)
			}
			if got, want := countsOf(mustSummary(t, s, "dtac")), fillCounts(200); got != want {
				t.Errorf("counts = %+v, want %+v", got, want)
			}
		})
	}
}

// overwrite writes b at page id of the file at path, behind the back of a
// Store that has it open (bbolt maps the file shared, so it sees it).
func overwrite(t *testing.T, path string, off int64, b []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

// TestDamageWhileOpen: damage done after Open checked the file. A read
// that meets a damaged page gets ErrCorrupt, and other reads go on. A file
// cut short makes bbolt read past its end (SIGBUS): concurrent writes that
// meet it (db.Batch used to run them on a goroutine of bbolt's, where the
// fault killed the process) get ErrCorrupt, and from then on the store
// refuses everything; Close still returns.
func TestDamageWhileOpen(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	real := buildFile(t, 3000)
	l := layoutOf(t, real)
	leaf := l.pagesOf(real, pageLeaf, "rec-")[5]
	page := real[leaf*l.pageSize:][:l.pageSize]
	key := func(i int) string {
		e := page[pageHeaderSize+i*pageElementSize:]
		return string(e[int(binary.LittleEndian.Uint32(e[4:])):][:binary.LittleEndian.Uint32(e[8:])])
	}
	inPage := key(int(binary.LittleEndian.Uint16(page[10:])) / 2)

	for _, ro := range []bool{false, true} {
		t.Run(fmt.Sprintf("readOnly=%t", ro), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "syncd.db")
			if err := os.WriteFile(path, real, 0o600); err != nil {
				t.Fatal(err)
			}
			s, err := Open(ctx, path, Options{ReadOnly: ro, Now: newClock().Now})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if _, ok, err := s.Get(ctx, "dtac", inPage); !ok || err != nil {
				t.Fatalf("Get(%s) = %v, %v", inPage, ok, err)
			}

			overwrite(t, path, int64(leaf*l.pageSize+8), []byte{0x03, 0}) // neither branch nor leaf
			_, _, err = s.Get(ctx, "dtac", inPage)
			assertCorruptFile(t, err, path)
			if got, want := countsOf(mustSummary(t, s, "dtac")), fillCounts(3000); got != want {
				t.Fatalf("a read that does not meet the damage, after one that did: %+v, want %+v", got, want)
			}

			if err := os.Truncate(path, int64(3*l.pageSize)); err != nil {
				t.Fatal(err)
			}
			_, err = s.Pending(ctx, "dtac")
			assertCorruptFile(t, err, path)
			if ro {
				return
			}
			errs := make([]error, 4)
			var wg sync.WaitGroup
			for w := range errs {
				wg.Go(func() { errs[w] = s.Put(ctx, "dtac", fillRecord(100+w, cursorOld)) })
			}
			wg.Wait()
			for _, err := range errs {
				assertCorruptFile(t, err, path)
			}
			// Broken: even what does not meet the damage is refused now.
			_, _, err = s.Cursor(ctx, "3cx")
			assertCorruptFile(t, err, path)
			assertCorruptFile(t, s.SetCursor(ctx, "3cx", cursorNew), path)
			start := time.Now()
			if err := s.Close(); err != nil {
				t.Logf("Close: %v", err)
			}
			if took := time.Since(start); took > brokenCloseWait+time.Second {
				t.Errorf("Close took %s", took)
			}
		})
	}
}

// FuzzCorruptFile flips bytes of a small valid file (flips: 3-byte
// offsets in the file, each followed by the byte to XOR there), opens it,
// and calls every method of Store, and of AlertTx inside UpdateAlerts and
// ViewAlerts, twice. Nothing may crash or hang; Open fails only with
// ErrCorrupt or ErrSchema. Run it with -race too: a read through a damaged
// offset that lands in Go's heap shows as a data race.
//
// testdata/fuzz/FuzzCorruptFile keeps inputs of earlier runs, one for each
// kind of outcome seen (refused at Open for each kind of damage, or opened
// and refused by a read); their offsets are into buildFile(60) with 4 KB
// pages.
func FuzzCorruptFile(f *testing.F) {
	real := buildFile(f, 60)
	l := layoutOf(f, real)
	at := func(off int, x byte) []byte { return []byte{byte(off), byte(off >> 8), byte(off >> 16), x} }
	f.Add(false, []byte{})
	f.Add(true, []byte{})
	if b := l.pagesOf(real, pageBranch, "rec-"); len(b) > 0 {
		f.Add(false, at(b[0]*l.pageSize+pageHeaderSize+8, 0x01))     // a child's page id
		f.Add(true, at(b[0]*l.pageSize+pageHeaderSize+8, 0x03))      // ditto, read-only
		f.Add(false, at(b[0]*l.pageSize+pageHeaderSize+4, 0xf0))     // a key's size
		f.Add(false, at(b[0]*l.pageSize+pageHeaderSize+0x10+8, 0x7)) // the second child
	}
	if lv := l.pagesOf(real, pageLeaf, "rec-"); len(lv) > 0 {
		f.Add(false, at(lv[0]*l.pageSize+8, 0x03))                  // its type
		f.Add(true, at(lv[0]*l.pageSize+pageHeaderSize+4, 0x80))    // a key's position
		f.Add(false, at(lv[0]*l.pageSize+pageHeaderSize+0x41, 1))   // a key's size
		f.Add(false, at(lv[0]*l.pageSize+l.pageSize/2, 0x22))       // a record's JSON
		f.Add(false, at(lv[0]*l.pageSize+12, 0x10))                 // its overflow
		f.Add(false, at(lv[len(lv)-1]*l.pageSize+10, 0x40))         // its count
		f.Add(true, at(lv[len(lv)-1]*l.pageSize+pageHeaderSize, 1)) // an element's flags
	}
	f.Add(false, at(l.freelist*l.pageSize+pageHeaderSize, 0x02))
	f.Add(false, at(l.newer*l.pageSize+pageHeaderSize+16, 0x01)) // the newer meta's root

	f.Fuzz(func(t *testing.T, readOnly bool, flips []byte) {
		data := bytes.Clone(real)
		for i := 0; i+4 <= len(flips); i += 4 {
			off := int(flips[i]) | int(flips[i+1])<<8 | int(flips[i+2])<<16
			x := flips[i+3]
			if x == 0 {
				x = 0xff
			}
			data[off%len(data)] ^= x
		}
		path := filepath.Join(t.TempDir(), "syncd.db")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			exercise(t, path, readOnly)
		}()
		select {
		case <-done:
		case <-time.After(time.Minute):
			t.Fatal("hung")
		}
	})
}

// exercise opens path and calls every method of the Store twice.
func exercise(t *testing.T, path string, readOnly bool) {
	ctx := context.Background()
	s, err := Open(ctx, path, Options{ReadOnly: readOnly, Timeout: 100 * time.Millisecond, Now: newClock().Now})
	if err != nil {
		if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrSchema) {
			t.Errorf("Open: %v, want ErrCorrupt or ErrSchema", err)
		}
		return
	}
	alertTx := func(tx *AlertTx) error {
		callAll(t, ctx, reflect.ValueOf(tx), path, nil)
		return nil
	}
	for range 2 {
		callAll(t, ctx, reflect.ValueOf(s), path, alertTx)
	}
	if err := s.Close(); err != nil && !errors.Is(err, ErrCorrupt) {
		t.Errorf("Close: %v", err)
	}
}

// callAll calls every exported method of v (but Close) with arguments made
// up for their types; a func(*AlertTx) error is given alertTx. An
// ErrCorrupt error must name the file.
func callAll(t *testing.T, ctx context.Context, v reflect.Value, path string, alertTx func(*AlertTx) error) {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range v.NumMethod() {
		m := v.Type().Method(i)
		if m.Name == "Close" {
			continue
		}
		mt := v.Method(i).Type()
		args := make([]reflect.Value, mt.NumIn())
		for j := range args {
			args[j] = fuzzArg(ctx, mt.In(j), base, alertTx)
		}
		out := v.Method(i).Call(args)
		if len(out) == 0 {
			continue
		}
		if err, ok := out[len(out)-1].Interface().(error); ok && errors.Is(err, ErrCorrupt) && !strings.Contains(err.Error(), path) {
			t.Errorf("%s: %v does not name the file", m.Name, err)
		}
	}
}

// fuzzArg makes up an argument of type typ.
func fuzzArg(ctx context.Context, typ reflect.Type, base time.Time, alertTx func(*AlertTx) error) reflect.Value {
	v := reflect.New(typ).Elem()
	switch x := v.Addr().Interface().(type) {
	case *context.Context:
		*x = ctx
	case *string:
		*x = "dtac"
	case *[]string:
		*x = []string{"rec-0000001", "rec-0000050", "nope"}
	case *time.Time:
		*x = base.Add(30 * time.Minute)
	case *Record:
		*x = fillRecord(7, base)
	case *[]Record:
		*x = []Record{fillRecord(2, base), fillRecord(100, base)}
	case *func(*AlertTx) error:
		*x = alertTx
		if alertTx == nil {
			*x = func(*AlertTx) error { return nil }
		}
	default:
		switch typ.Kind() {
		case reflect.Pointer:
			v.Set(reflect.New(typ.Elem()))
			fillStruct(v.Elem())
		case reflect.Struct:
			fillStruct(v)
		case reflect.Int, reflect.Int64:
			v.SetInt(1)
		case reflect.Uint64:
			v.SetUint(1)
		}
	}
	return v
}

// fillStruct sets a Key field, if v has one, so that incidents and
// deliveries are about something.
func fillStruct(v reflect.Value) {
	if v.Kind() != reflect.Struct {
		return
	}
	if f := v.FieldByName("Key"); f.IsValid() && f.Kind() == reflect.String && f.CanSet() {
		f.SetString("dtac")
	}
}
