package httpsafe_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/crkai/syncd/internal/httpsafe"
)

func TestLimit(t *testing.T) {
	for _, tc := range []struct {
		body    string
		limit   int64
		wantErr bool
	}{
		{"", 0, false},
		{"abc", 3, false},
		{"abc", 2, true},
		{"abcdef", 0, true},
		{strings.Repeat("x", 100_000), 100_000, false},
		{strings.Repeat("x", 100_001), 100_000, true},
	} {
		for _, r := range []io.Reader{strings.NewReader(tc.body), iotest.OneByteReader(strings.NewReader(tc.body)), iotest.DataErrReader(strings.NewReader(tc.body))} {
			got, err := httpsafe.ReadAll(r, tc.limit, "the listing page")
			if tc.wantErr {
				if !errors.Is(err, httpsafe.ErrTooLarge) || int64(len(got)) != tc.limit {
					t.Errorf("%d bytes, limit %d: %d bytes, %v: want the limit's bytes and ErrTooLarge", len(tc.body), tc.limit, len(got), err)
				}
				continue
			}
			if err != nil || string(got) != tc.body {
				t.Errorf("%d bytes, limit %d: %d bytes, %v", len(tc.body), tc.limit, len(got), err)
			}
		}
	}
	_, err := httpsafe.ReadAll(strings.NewReader(strings.Repeat("x", 3<<20)), 2<<20, "the listing page")
	if err == nil || err.Error() != "the listing page is larger than 2 MiB" {
		t.Errorf("error %v", err)
	}
	var tl *httpsafe.TooLargeError
	if !errors.As(err, &tl) || tl.Limit != 2<<20 {
		t.Errorf("%v is not a *TooLargeError of 2 MiB", err)
	}
}

func TestSize(t *testing.T) {
	for n, want := range map[int64]string{32 << 20: "32 MiB", 1 << 20: "1 MiB", 64 << 10: "64 KiB", 1500: "1500 bytes", 0: "0 bytes"} {
		if got := httpsafe.Size(n); got != want {
			t.Errorf("Size(%d) = %q, want %q", n, got, want)
		}
	}
}

// TestJSONKeepsMeaning: cutting whitespace runs never changes what a
// document decodes to, nor whether it is valid.
func TestJSONKeepsMeaning(t *testing.T) {
	for _, doc := range []string{
		`{"objects": [ {"id": 1, "name": "a   b\t\n"},  {"id" :2} ],` + "\n\n\t" + `"next": null}`,
		`"  spaces \"  inside \\" , "x"`,
		`[1 , 2,    3]`,
		`  {"a":"\\\"   "}   `,
		`{"a": 1 2}`,
		`[tr ue]`,
		`{"a": "unterminated    `,
		"{\"thai\": \"  เกิดข้อผิดพลาด  \"}",
	} {
		want, wantErr := decodeAll(strings.NewReader(doc))
		for _, r := range []io.Reader{
			httpsafe.JSON(strings.NewReader(doc), 1<<20, "the page"),
			httpsafe.JSON(iotest.OneByteReader(strings.NewReader(doc)), 1<<20, "the page"),
		} {
			got, err := decodeAll(r)
			if (err == nil) != (wantErr == nil) || !reflect.DeepEqual(got, want) {
				t.Errorf("%q: decoded %#v, %v; want %#v, %v", doc, got, err, want, wantErr)
			}
		}
	}
}

func decodeAll(r io.Reader) ([]any, error) {
	dec := json.NewDecoder(r)
	var out []any
	for {
		var v any
		err := dec.Decode(&v)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, v)
	}
}

func TestJSONWhitespaceIsFree(t *testing.T) {
	body := io.MultiReader(strings.NewReader(`{"objects":[`), bytes.NewReader(bytes.Repeat([]byte(" \n"), 4<<20)), strings.NewReader(`]}`))
	n, err := io.Copy(io.Discard, httpsafe.JSON(body, 16<<20, "the page"))
	if err != nil || n != int64(len(`{"objects":[ ]}`)) {
		t.Fatalf("read %d bytes, %v", n, err)
	}
	_, err = io.Copy(io.Discard, httpsafe.JSON(strings.NewReader(`[`+strings.Repeat(" ", 2000)+`]`), 1000, "the listing page"))
	if !errors.Is(err, httpsafe.ErrTooLarge) {
		t.Fatalf("whitespace past the bound: %v, want ErrTooLarge (the bound counts the body's bytes)", err)
	}
}
