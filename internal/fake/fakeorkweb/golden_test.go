package fakeorkweb

import (
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/crkai/syncd/internal/fake/fakeaudio"
)

// reconstructed is where ../shared/orkweb lies from this package.
const reconstructed = "../../../../shared/orkweb/"

func readReconstructed(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(reconstructed + name)
	if err != nil {
		t.Skipf("shared reconstructed pages not here: %v", err)
	}
	return string(b)
}

// reconstructionDay holds the reconstructed results page's data: its two
// rows shown (tapes 5123 and 5122) and ten more earlier the same day.
func reconstructionDay() []Recording {
	recs := []Recording{
		{TapeID: 5123, Time: time.Date(2024, 3, 1, 14, 5, 9, 0, ICT), Duration: 125, LocalParty: "1001",
			RemoteParty: "0812345678", Direction: In, File: "2024/03/01/14/20240301_140509_KQXB.wav"},
		{TapeID: 5122, Time: time.Date(2024, 3, 1, 13, 58, 41, 0, ICT), Duration: 37, LocalParty: "1002",
			RemoteParty: "021234567", Direction: Out, File: "2024/03/01/13/20240301_135841_KQXA.wav"},
	}
	for i := range 10 {
		recs = append(recs, Recording{
			TapeID: int64(5110 + i), Time: time.Date(2024, 3, 1, 9, 0, 0, 0, ICT).Add(time.Duration(i) * 17 * time.Minute),
			Duration: 20 + i, LocalParty: "1003", RemoteParty: "029999999", Direction: Direction(i % 3),
			Audio: fakeaudio.Audio{Size: 2048},
		})
	}
	return recs
}

var (
	renderTimeRE = regexp.MustCompile(`<!-- Render time: ~ \d+ ms -->`)
	digestRE     = regexp.MustCompile(`digest=[0-9a-f]{32}&amp;path=%2Forg%2Fapache%2Ftapestry%2Fform%2F(\w+)\.js`)
	initRE       = regexp.MustCompile(`(?s)Tapestry.register_form\('Form'\);\n.*Tapestry.set_focus`)
	sessionRE    = regexp.MustCompile(`;jsessionid=[0-9A-F]{32}`)
)

// TestPagesMatchReconstruction renders the fake's pages with the
// reconstructed pages' data and compares them byte for byte, less what the
// reconstruction elides or invents: the render time, the session id, the
// asset digests, the DatePicker initialisation and rows 3–10.
func TestPagesMatchReconstruction(t *testing.T) {
	s, _ := startClock(t, Options{Users: map[string]string{"admin": "s3cret"}, AudioLinkHost: "oreka-rec01:8080"})
	s.Add(reconstructionDay()...)
	b := newBrowser(t, s, true)
	b.host = "oreka.example.com:8080"

	norm := func(p string) string {
		p = renderTimeRE.ReplaceAllString(p, "<!-- Render time -->")
		p = sessionRE.ReplaceAllString(p, ";jsessionid=ID")
		return p
	}
	compare := func(name, got string) {
		t.Helper()
		want := norm(readReconstructed(t, name))
		got = norm(got)
		if got != want {
			t.Errorf("%s differs from the reconstruction:\n%s", name, firstDiff(want, got))
		}
	}

	a := b.get("/orkweb/app")
	if a.code != 200 || !strings.Contains(a.header.Get("Set-Cookie"), "JSESSIONID=") {
		t.Fatalf("first GET: %d, Set-Cookie %q", a.code, a.header.Get("Set-Cookie"))
	}
	compare("login.html", a.body)

	a = b.post("/orkweb/app", loginForm("admin", "wrongpw"))
	compare("login_failed.html", a.body)

	a = b.post("/orkweb/app", loginForm("admin", "s3cret"))
	if title(a.body) != "Browse segments" {
		t.Fatalf("log-in answered %q", title(a.body))
	}
	a = b.post("/orkweb/app", searchForm("2024-03-01 00:00:00", "2024-03-02 00:00:00"))
	got := a.body
	got = digestRE.ReplaceAllString(got, "digest=[md5-of-$1.js]&amp;path=%2Forg%2Fapache%2Ftapestry%2Fform%2F$1.js")
	got = initRE.ReplaceAllString(got, "Tapestry.register_form('Form');\n"+
		"/* [DatePicker initialisation for calendar_DatePicker and calendar_DatePicker_0 elided] */\nTapestry.set_focus")
	// Keep the first two rows; the reconstruction elides the other eight.
	rows := strings.Split(got, "</tr><tr class=")
	if len(rows) != 10 {
		t.Fatalf("page 1 has %d rows, want 10", len(rows))
	}
	last := rows[9][strings.Index(rows[9], "</tr>\n"):]
	got = rows[0] + "</tr><tr class=" + rows[1] + last
	got = strings.Replace(got, "</tr>\n\t\t\t\t\t\t\t\t\t\t</table>",
		"</tr>\n<!-- [reconstruction note: 8 more <tr class=\"even|odd\"> rows here on a real page 1; a page holds 10 rows] -->\n\t\t\t\t\t\t\t\t\t\t</table>", 1)
	compare("results.html", got)
}

// firstDiff shows where two texts part.
func firstDiff(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := range max(len(wl), len(gl)) {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return "line " + strconv.Itoa(i+1) + ":\nwant " + quote(w) + "\ngot  " + quote(g)
		}
	}
	return "(same lines)"
}

func quote(s string) string { return "`" + strings.ReplaceAll(s, "\t", "→") + "`" }
