package state

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"strconv"

	bolt "go.etcd.io/bbolt"
)

// Schema is the layout version this syncd writes and reads. A file of a
// newer schema is refused (upgrade syncd); there is no older one yet, so
// any other number is refused too.
//
// Layout of schema 1:
//
//	meta/schema                        "1"
//	sources/<source>/cursor            time (MarshalBinary)
//	sources/<source>/lastSuccess       time (MarshalBinary)
//	sources/<source>/count.done        uint64, big-endian
//	sources/<source>/count.pending     uint64, big-endian
//	sources/<source>/count.quarantined uint64, big-endian
//	sources/<source>/recs/<id>         record (JSON)
//	sources/<source>/idx.done/<at><id>     empty: Done records by CallAt
//	sources/<source>/idx.pending/<at><id>  empty: pending records by CallAt
//	sources/<source>/idx.quar/<at><id>     empty: quarantined records by CallAt
const Schema = 1

const (
	bucketMeta    = "meta"
	bucketSources = "sources"
	keySchema     = "schema"
)

// inspect checks, in a transaction of the file as Open found it, that the
// file is whole, that its pages are sound (if walk; see verify) and of a
// schema this syncd reads. The walk comes before anything reads a bucket,
// since bbolt trusts what it reads; but damage that bbolt notices itself
// (a page of the wrong type or id) is reported only after the schema
// check, whose reads then meet it (bbolt panics, Open recovers).
func (s *Store) inspect(tx *bolt.Tx, walk, strict bool) error {
	if err := s.checkSize(tx); err != nil {
		return err
	}
	var later error
	if walk {
		var err error
		if later, err = s.verify(tx, strict); err != nil {
			return err
		}
	}
	if err := s.checkSchema(tx); err != nil {
		return err
	}
	return later
}

// check verifies that the file is whole and of a schema this syncd reads.
// A file with no buckets at all is a new, empty store.
func (s *Store) check(tx *bolt.Tx) error {
	if err := s.checkSize(tx); err != nil {
		return err
	}
	return s.checkSchema(tx)
}

// checkSize verifies that the file holds all the pages its meta page
// counts.
func (s *Store) checkSize(tx *bolt.Tx) error {
	info, err := os.Stat(s.path)
	if err != nil {
		return fmt.Errorf("stat state file %s: %w", s.path, err)
	}
	if want := tx.Size(); info.Size() < want {
		return corruptError(s.path, fmt.Errorf("truncated: the file is %d bytes but its meta page says %d", info.Size(), want))
	}
	return nil
}

// checkSchema verifies that the file is syncd's, of a schema it reads.
func (s *Store) checkSchema(tx *bolt.Tx) error {
	// A damaged element flag can turn a bucket into a plain value.
	c := tx.Cursor()
	for _, name := range []string{bucketMeta, bucketSources} {
		if k, v := c.Seek([]byte(name)); string(k) == name && v != nil {
			return corruptError(s.path, fmt.Errorf("%q is a value, not a bucket", name))
		}
	}

	meta := tx.Bucket([]byte(bucketMeta))
	if meta == nil {
		var found []byte
		_ = tx.ForEach(func(name []byte, _ *bolt.Bucket) error {
			found = append([]byte(nil), name...)
			return errStop
		})
		if found != nil {
			return &openError{kind: ErrSchema, msg: fmt.Sprintf(
				"state file %s is a bbolt file but not syncd's (it has a %q bucket and no %q): check SYNCD_STATE_PATH",
				s.path, found, bucketMeta)}
		}
		return nil
	}
	raw := meta.Get([]byte(keySchema))
	v, err := strconv.Atoi(string(raw))
	switch {
	case err != nil:
		return &openError{kind: ErrSchema, msg: fmt.Sprintf(
			"state file %s has an unreadable schema version %q: move it aside (mv %s %s.old) and start syncd again",
			s.path, raw, s.path, s.path)}
	case v > Schema:
		return &openError{kind: ErrSchema, msg: fmt.Sprintf(
			"state file %s has schema %d, newer than this syncd understands (%d): upgrade syncd to the version that wrote it",
			s.path, v, Schema)}
	case v < Schema:
		return &openError{kind: ErrSchema, msg: fmt.Sprintf(
			"state file %s has schema %d, which this syncd cannot migrate (it reads %d): move it aside (mv %s %s.old) and start syncd again",
			s.path, v, Schema, s.path, s.path)}
	}
	return nil
}

// initialise checks the file and, if it is new, writes the schema.
func (s *Store) initialise(tx *bolt.Tx) error {
	if err := s.check(tx); err != nil {
		return err
	}
	if tx.Bucket([]byte(bucketMeta)) != nil {
		if _, err := tx.CreateBucketIfNotExists([]byte(bucketSources)); err != nil {
			return fmt.Errorf("state file %s: create bucket %s: %w", s.path, bucketSources, err)
		}
		return nil
	}
	meta, err := tx.CreateBucket([]byte(bucketMeta))
	if err != nil {
		return fmt.Errorf("state file %s: create bucket %s: %w", s.path, bucketMeta, err)
	}
	if err := meta.Put([]byte(keySchema), []byte(strconv.Itoa(Schema))); err != nil {
		return fmt.Errorf("state file %s: write schema: %w", s.path, err)
	}
	if _, err := tx.CreateBucket([]byte(bucketSources)); err != nil {
		return fmt.Errorf("state file %s: create bucket %s: %w", s.path, bucketSources, err)
	}
	return nil
}

// Page layout of a bbolt file (go.etcd.io/bbolt/internal/common), read by
// verify without bbolt: bbolt trusts every page it reads, and on a damaged
// one it may fault, panic, loop for ever or ask for terabytes of memory.
const (
	pageHeaderSize  = 16 // id u64, flags u16, count u16, overflow u32
	pageElementSize = 16 // leaf: flags, pos, ksize, vsize u32; branch: pos, ksize u32, pgid u64
	bucketHeaderLen = 16 // root pgid u64, sequence u64; an inline bucket's page follows
	metaChecksumAt  = 56 // the meta's checksum covers the bytes before it

	pageBranch   = 0x01
	pageLeaf     = 0x02
	pageFreelist = 0x10
	leafBucket   = 0x01

	boltMagic   = 0xED0CDAED
	boltVersion = 2
	noFreelist  = ^uint64(0)

	// maxLevel bounds the walk: pages from the root through nested
	// buckets. bbolt's trees are a few pages deep, and syncd nests its
	// buckets three deep.
	maxLevel = 64
)

// errSkip leaves a page whose contents cannot be trusted, damage that
// bbolt refuses itself when a read meets it (see problem).
var errSkip = errors.New("skip")

// pageWalk is one walk of a file's pages by verify.
type pageWalk struct {
	f        *os.File
	pageSize int
	hwm      uint64   // pages [0, hwm) hold the data
	used     []uint64 // bitset of the pages reached from the root
	bufs     [][]byte // a page buffer per level below the root
	first    error    // the first damage that bbolt notices itself
}

// verify walks every page of the file as of tx, reading it with ReadAt
// (never through bbolt's mapping of the file), and returns ErrCorrupt
// naming the damage it finds. It runs after checkSize, which has made sure
// that the file holds all the pages the meta page counts.
//
// It returns at once (err) the damage that bbolt does not check as it
// reads: a page reached twice (bbolt would loop until the stack or the
// memory runs out, which no recover catches), a page outside the file,
// elements or keys outside their page (bbolt would read whatever memory
// lies there), an inline bucket that is not a leaf (bbolt recurses into
// it for ever), and a record count larger than the file could hold (a read
// sizes its result by it). Strict (before a read-write open), it also
// returns, as later, the first damage bbolt would notice (a page of the
// wrong type or id, its overflow, keys out of order) and checks the
// freelist (bbolt frees, reuses and rewrites these pages, so damage there
// spreads). Lenient (read-only opens, for -status), that damage is left to
// the read that meets it, so that -status still shows what it can.
func (s *Store) verify(tx *bolt.Tx, strict bool) (later, err error) {
	f, err := os.Open(s.path)
	if err != nil {
		return nil, fmt.Errorf("open state file %s to check its pages: %w", s.path, err)
	}
	defer f.Close()
	w := &pageWalk{f: f, pageSize: s.db.Info().PageSize}
	root, freelist, err := w.meta(tx)
	if err == nil {
		err = w.tree(root, 0, nil, nil, where{})
	}
	if err == nil && strict {
		err = w.freelist(freelist)
	}
	var rerr *readError
	switch {
	case errors.As(err, &rerr):
		return nil, fmt.Errorf("check the pages of state file %s: %w", s.path, err)
	case err != nil:
		return nil, corruptError(s.path, err)
	case strict && w.first != nil:
		return corruptError(s.path, w.first), nil
	}
	return nil, nil
}

// meta finds the meta page tx was opened from (bbolt uses the newer valid
// one of two) and returns its root page and freelist page.
func (w *pageWalk) meta(tx *bolt.Tx) (root, freelist uint64, err error) {
	if w.pageSize < 1024 || w.pageSize%pageElementSize != 0 {
		return 0, 0, fmt.Errorf("page size %d", w.pageSize)
	}
	buf := make([]byte, pageHeaderSize+metaChecksumAt+8)
	for i := range 2 {
		if err := w.read(buf, uint64(i), 0); err != nil {
			return 0, 0, err
		}
		m := buf[pageHeaderSize:]
		h := fnv.New64a()
		_, _ = h.Write(m[:metaChecksumAt])
		if binary.LittleEndian.Uint32(m[0:]) != boltMagic || binary.LittleEndian.Uint32(m[4:]) != boltVersion ||
			binary.LittleEndian.Uint64(m[metaChecksumAt:]) != h.Sum64() || binary.LittleEndian.Uint64(m[48:]) != uint64(tx.ID()) {
			continue
		}
		w.hwm = binary.LittleEndian.Uint64(m[40:])
		if w.hwm < 2 || w.hwm > uint64(tx.Size())/uint64(w.pageSize) {
			return 0, 0, fmt.Errorf("meta page %d counts %d pages", i, w.hwm)
		}
		w.used = make([]uint64, (w.hwm+63)/64)
		w.mark(0)
		w.mark(1)
		return binary.LittleEndian.Uint64(m[16:]), binary.LittleEndian.Uint64(m[32:]), nil
	}
	return 0, 0, fmt.Errorf("no valid meta page is that of transaction %d", tx.ID())
}

// readError is a failure to read the file, not damage found in it.
type readError struct{ err error }

func (e *readError) Error() string { return e.err.Error() }
func (e *readError) Unwrap() error { return e.err }

// read fills buf from offset off of page id. The end of the file before
// the end of buf is damage (the file was cut short since check looked);
// any other failure is a readError.
func (w *pageWalk) read(buf []byte, id uint64, off int) error {
	_, err := w.f.ReadAt(buf, int64(id)*int64(w.pageSize)+int64(off))
	switch {
	case err == nil:
		return nil
	case errors.Is(err, io.EOF):
		return fmt.Errorf("the file ends within page %d", id)
	default:
		return &readError{fmt.Errorf("read page %d: %w", id, err)}
	}
}

// mark records page id as reached, and reports whether it already was.
func (w *pageWalk) mark(id uint64) bool {
	word, bit := id/64, uint64(1)<<(id%64)
	seen := w.used[word]&bit != 0
	w.used[word] |= bit
	return seen
}

func (w *pageWalk) isUsed(id uint64) bool { return w.used[id/64]&(uint64(1)<<(id%64)) != 0 }

// problem records err, damage that bbolt notices itself (it panics) when
// a read meets it, and skips the page: its contents cannot be trusted.
func (w *pageWalk) problem(err error) error {
	w.note(err)
	return errSkip
}

// note records err, damage that bbolt notices itself or that cannot make
// it read outside the file, and goes on.
func (w *pageWalk) note(err error) {
	if w.first == nil {
		w.first = err
	}
}

// where names a page of the walk in an error: page id of bucket (the root
// bucket when ""), the bucket's inline page when id is 0, or the freelist.
type where struct {
	id       uint64
	bucket   string // the names from the root, joined with "/"
	kind     int    // the bucket is kindSources, or a kindSource below it
	freelist bool
}

const (
	kindOther = iota
	kindSources
	kindSource
)

func (l where) String() string {
	if l.freelist {
		return fmt.Sprintf("page %d (the freelist)", l.id)
	}
	b := "the root bucket"
	if l.bucket != "" {
		b = fmt.Sprintf("bucket %q", l.bucket)
	}
	if l.id == 0 {
		return "the inline page of " + b
	}
	return fmt.Sprintf("page %d of %s", l.id, b)
}

// page reads page id and its overflow pages into the buffer of level,
// after checking that they lie within the file and were not reached
// before.
func (w *pageWalk) page(id uint64, level int, at where) ([]byte, error) {
	at.id = id
	if id < 2 || id >= w.hwm {
		return nil, fmt.Errorf("%s points to page %d, outside the file's %d pages", at.owner(), id, w.hwm)
	}
	for len(w.bufs) <= level {
		w.bufs = append(w.bufs, make([]byte, w.pageSize))
	}
	buf := w.bufs[level][:w.pageSize]
	if err := w.read(buf, id, 0); err != nil {
		return nil, err
	}
	if got := binary.LittleEndian.Uint64(buf); got != id {
		return nil, w.problem(fmt.Errorf("%s calls itself page %d", at, got))
	}
	overflow := uint64(binary.LittleEndian.Uint32(buf[12:]))
	if overflow >= w.hwm-id {
		// bbolt reads no overflow count, only elements, which are
		// checked against the one page.
		w.note(fmt.Errorf("%s runs %d pages past the end of the file", at, overflow))
		overflow = 0
	}
	for i := id; i <= id+overflow; i++ {
		if w.mark(i) {
			at.id = i
			return nil, fmt.Errorf("%s is reached twice: the pages loop", at)
		}
	}
	if overflow > 0 {
		size := int(overflow+1) * w.pageSize
		if cap(w.bufs[level]) < size {
			w.bufs[level] = append(make([]byte, 0, size), buf...)
		}
		buf = w.bufs[level][:size]
		if err := w.read(buf[w.pageSize:], id, w.pageSize); err != nil {
			return nil, err
		}
	}
	return buf, nil
}

// owner names what points to a bucket's root page, or to the freelist.
func (l where) owner() string {
	if l.bucket == "" || l.freelist {
		return "the meta page"
	}
	return fmt.Sprintf("bucket %q", l.bucket)
}

// tree checks the b+tree of bucket b from its page id at level, whose
// keys must lie in [lo, hi) (nil: unbounded).
func (w *pageWalk) tree(id uint64, level int, lo, hi []byte, b where) error {
	at := b
	at.id = id
	if level > maxLevel {
		return fmt.Errorf("%s is more than %d levels below the root", at, maxLevel)
	}
	buf, err := w.page(id, level, at)
	if err != nil {
		return skipped(err)
	}
	flags := binary.LittleEndian.Uint16(buf[8:])
	count := int(binary.LittleEndian.Uint16(buf[10:]))
	switch {
	case flags != pageBranch && flags != pageLeaf:
		return skipped(w.problem(fmt.Errorf("%s has type %#x, neither branch nor leaf", at, flags)))
	case pageHeaderSize+count*pageElementSize > len(buf):
		return fmt.Errorf("%s counts %d elements, more than it holds", at, count)
	case flags == pageBranch && count == 0:
		return fmt.Errorf("%s is an empty branch", at)
	case flags == pageLeaf:
		return skipped(w.leaf(buf, count, level, lo, hi, at))
	}
	// A branch. Its children are read into the buffers of the levels
	// below, so its keys stay valid while they are walked.
	type child struct {
		key []byte
		id  uint64
	}
	children := make([]child, count)
	for i := range children {
		off := pageHeaderSize + i*pageElementSize
		key, _, err := w.element(buf, off, false, at, i)
		if err != nil {
			return skipped(err)
		}
		children[i] = child{key: key, id: binary.LittleEndian.Uint64(buf[off+8:])}
	}
	for i, c := range children {
		next := hi
		if i+1 < len(children) {
			next = children[i+1].key
		}
		w.order(c.key, lo, next, at, i)
		if err := w.tree(c.id, level+1, c.key, next, b); err != nil {
			return err
		}
	}
	return nil
}

// skipped turns errSkip into nil: the walk goes on elsewhere.
func skipped(err error) error {
	if errors.Is(err, errSkip) {
		return nil
	}
	return err
}

// element is the key and value (none for a branch) of element i, at offset
// off of page buf, after checking that both lie within the page.
func (w *pageWalk) element(buf []byte, off int, leaf bool, at where, i int) (key, value []byte, err error) {
	var pos, ksize, vsize uint64
	if leaf { // flags, pos, ksize, vsize
		pos, ksize = uint64(binary.LittleEndian.Uint32(buf[off+4:])), uint64(binary.LittleEndian.Uint32(buf[off+8:]))
		vsize = uint64(binary.LittleEndian.Uint32(buf[off+12:]))
	} else { // pos, ksize, pgid
		pos, ksize = uint64(binary.LittleEndian.Uint32(buf[off:])), uint64(binary.LittleEndian.Uint32(buf[off+4:]))
	}
	start := uint64(off) + pos
	if ksize == 0 || start+ksize+vsize > uint64(len(buf)) {
		return nil, nil, fmt.Errorf("%s, element %d: its key (%d bytes at %d) and value (%d bytes) are not within the page",
			at, i, ksize, pos, vsize)
	}
	return buf[start : start+ksize], buf[start+ksize : start+ksize+vsize], nil
}

// order checks that key, element i of a page, lies in [lo, hi).
func (w *pageWalk) order(key, lo, hi []byte, at where, i int) {
	if (lo != nil && bytes.Compare(key, lo) < 0) || (hi != nil && bytes.Compare(key, hi) >= 0) {
		w.note(fmt.Errorf("%s, element %d: key %q is out of order", at, i, key))
	}
}

// leaf checks the count elements of leaf page buf at level, and the
// buckets they hold.
func (w *pageWalk) leaf(buf []byte, count, level int, lo, hi []byte, at where) error {
	prev := lo
	for i := range count {
		off := pageHeaderSize + i*pageElementSize
		key, value, err := w.element(buf, off, true, at, i)
		if err != nil {
			return err
		}
		if i > 0 && bytes.Equal(key, prev) {
			w.note(fmt.Errorf("%s, element %d: key %q appears twice", at, i, key))
		} else {
			w.order(key, prev, hi, at, i)
		}
		prev = key
		if binary.LittleEndian.Uint32(buf[off:])&leafBucket == 0 {
			if err := w.value(key, value, at, i); err != nil {
				return err
			}
			continue
		}
		sub := where{bucket: string(key)}
		if at.bucket != "" {
			sub.bucket = at.bucket + "/" + sub.bucket
		}
		switch {
		case at.bucket == "" && string(key) == bucketSources:
			sub.kind = kindSources
		case at.kind == kindSources:
			sub.kind = kindSource
		}
		if err := skipped(w.bucket(value, level+1, sub)); err != nil {
			return err
		}
	}
	return nil
}

// bucket checks bucket at, whose header is value: its tree from level, or
// its inline page.
func (w *pageWalk) bucket(value []byte, level int, at where) error {
	if level > maxLevel {
		return fmt.Errorf("bucket %q is nested more than %d levels below the root", at.bucket, maxLevel)
	}
	if len(value) < bucketHeaderLen {
		return fmt.Errorf("bucket %q has a %d-byte header", at.bucket, len(value))
	}
	if root := binary.LittleEndian.Uint64(value); root != 0 {
		return w.tree(root, level, nil, nil, at)
	}
	page := value[bucketHeaderLen:]
	if len(page) < pageHeaderSize {
		return fmt.Errorf("%s is %d bytes", at, len(page))
	}
	count := int(binary.LittleEndian.Uint16(page[10:]))
	switch {
	case binary.LittleEndian.Uint16(page[8:]) != pageLeaf:
		return fmt.Errorf("%s is not a leaf", at)
	case pageHeaderSize+count*pageElementSize > len(page):
		return fmt.Errorf("%s counts %d elements, more than it holds", at, count)
	}
	return w.leaf(page, count, level, nil, nil, at)
}

// value checks what syncd reads of value, element i of a leaf page of
// at's bucket, before anything else: a source's record counts (see Schema),
// by which a read sizes its result, must be no more than the file could
// hold.
func (w *pageWalk) value(key, value []byte, at where, i int) error {
	if at.kind != kindSource || !bytes.HasPrefix(key, []byte("count.")) || len(value) != 8 {
		return nil
	}
	if n, most := binary.BigEndian.Uint64(value), w.hwm*uint64(w.pageSize)/pageElementSize; n > most {
		return fmt.Errorf("%s, element %d: %s is %d, more records than the file could hold", at, i, key, n)
	}
	return nil
}

// freelist checks the freelist page: the pages it lists must lie in the
// file, once each, and none may be in use. A page that is not a freelist
// page at all is left to bbolt, which refuses it with a panic that Open
// recovers.
func (w *pageWalk) freelist(id uint64) error {
	if id == noFreelist {
		return nil // bbolt rebuilds the list from the tree just checked
	}
	if id < 2 || id >= w.hwm {
		return fmt.Errorf("the meta page points to the freelist at page %d, outside the file's %d pages", id, w.hwm)
	}
	var head [pageHeaderSize]byte
	if err := w.read(head[:], id, 0); err != nil {
		return err
	}
	if binary.LittleEndian.Uint16(head[8:]) != pageFreelist {
		return nil
	}
	buf, err := w.page(id, 0, where{freelist: true})
	if err != nil {
		return skipped(err) // noted: strict reports it
	}
	start, n := pageHeaderSize, uint64(binary.LittleEndian.Uint16(buf[10:]))
	if n == 0xFFFF { // the count did not fit: it is the first element
		n, start = binary.LittleEndian.Uint64(buf[pageHeaderSize:]), pageHeaderSize+8
	}
	if n > uint64(len(buf)-start)/8 {
		return fmt.Errorf("the freelist (page %d) counts %d pages, more than it holds", id, n)
	}
	free := make([]uint64, len(w.used))
	for i := range int(n) {
		p := binary.LittleEndian.Uint64(buf[start+8*i:])
		word, bit := p/64, uint64(1)<<(p%64)
		switch {
		case p < 2 || p >= w.hwm:
			return fmt.Errorf("the freelist (page %d) lists page %d, outside the file's %d pages", id, p, w.hwm)
		case w.isUsed(p):
			return fmt.Errorf("the freelist (page %d) lists page %d, which is in use", id, p)
		case free[word]&bit != 0:
			return fmt.Errorf("the freelist (page %d) lists page %d twice", id, p)
		}
		free[word] |= bit
	}
	return nil
}
