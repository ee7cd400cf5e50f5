package fakeorkweb

import (
	"bytes"
	"embed"
	"fmt"
	"html"
	"net/http"
	"strconv"
	"strings"
	"text/template"
	"time"
)

// The page templates are ../shared/orkweb/*.html with their data, session
// ids, dates and elisions made placeholders: static text verbatim from
// OrkWeb's templates, component output as Tapestry 4.0.2 renders it.
//
//go:embed templates/*.tmpl
var templateFS embed.FS

var pages = template.Must(template.New("").ParseFS(templateFS, "templates/*.tmpl"))

// javaDateLayout is java.util.Date.toString's "EEE MMM dd HH:mm:ss zzz
// yyyy", always English and Gregorian: the "Generated:" comment.
const javaDateLayout = "Mon Jan 02 15:04:05 MST 2006"

// Asset digests: MD5 of the resources in Tapestry 4.0.2's jar, as its
// asset service names them (computed from apache/tapestry4 tag 4.0.2).
const (
	digestFormJS       = "557f2081d45a7528f898e7e384717596"
	digestDatePickerJS = "15dec4a922cd27ef36879f37b64035da"
	digestExceptionCSS = "e004ce617d9497ce498469d43acbaa34"
)

// shell is what Tapestry's Shell component puts around every page.
type shell struct {
	Generated string
	Base      string
	S         string // ";jsessionid=…" when URLs are rewritten
	RenderMS  int
}

type homeData struct {
	shell
	Error, Username, Password string
}

type recSegmentsData struct {
	shell
	VoiceIP                                         bool
	Ifs                                             [4]string
	MinErrRow, MaxErrRow, LocalErrRow, RemoteErrRow string
	MinValue, MaxValue, LocalValue, RemoteValue     string
	MinClass, MaxClass, LocalClass, RemoteClass     string
	StartValue, EndValue                            string
	Direction                                       int
	Rows                                            []rowData
	Paging1, Paging2                                pagingData
	DatePickerInit                                  string
	VoiceIPScript                                   string
}

type rowData struct {
	Class, Time, Duration, Local, Remote string
	In, Out                              bool
	Tape                                 string // "" without a tape
	URL                                  string // OrecX's play URL
	File                                 string // voiceip's data-path
}

type pagingData struct {
	S, Name              string
	Page, Pages, Results int
	Slider               []string
}

// reply is one answer of /orkweb/app in the making.
type reply struct {
	w          http.ResponseWriter
	r          *http.Request
	ses        *session // the request's live session, or nil
	fromCookie bool     // the request named its session in a cookie
	created    bool     // ses was created by this request (Tomcat's isNew)
}

// rewrite is Tomcat's encodeURL suffix: URLs carry the session id when
// there is a session and the request did not name one in a cookie.
func (rp *reply) rewrite() string {
	if rp.ses == nil || rp.fromCookie {
		return ""
	}
	return ";jsessionid=" + rp.ses.id
}

func (s *Server) shell(rp *reply) shell {
	return shell{
		Generated: s.now().In(s.loc).Format(javaDateLayout),
		Base:      "http://" + rp.r.Host + "/orkweb/",
		S:         rp.rewrite(),
		RenderMS:  9,
	}
}

func (s *Server) write(rp *reply, name string, data any) {
	var b bytes.Buffer
	if err := pages.ExecuteTemplate(&b, name, data); err != nil {
		panic(fmt.Sprintf("fakeorkweb: template %s: %v", name, err))
	}
	rp.w.Header().Set("Content-Type", "text/html;charset=UTF-8")
	_, _ = rp.w.Write(b.Bytes())
}

// renderHome answers the log-in page, Home.
func (s *Server) renderHome(rp *reply, errMsg, user, pass string) {
	s.mu.Lock()
	s.stats.LoginPages++
	s.mu.Unlock()
	s.write(rp, "home.tmpl", homeData{
		shell: s.shell(rp), Error: htmlEscape(errMsg),
		Username: htmlEscape(user), Password: htmlEscape(pass),
	})
}

// renderRecSegments answers the recordings page for f and ts with rows.
func (s *Server) renderRecSegments(rp *reply, f *filter, ts *tableState, rows []Recording) {
	sh := s.shell(rp)
	sh.RenderMS = 41
	s.mu.Lock()
	thai := s.thai
	s.mu.Unlock()
	d := recSegmentsData{
		shell:    sh,
		VoiceIP:  s.opts.Flavour == VoiceIP,
		Ifs:      [4]string{ifValue(f.minErr), ifValue(f.maxErr), ifValue(f.localErr), ifValue(f.remoteErr)},
		MinValue: htmlEscape(f.minDur), MaxValue: htmlEscape(f.maxDur),
		LocalValue: htmlEscape(f.local), RemoteValue: htmlEscape(f.remote),
		MinClass: errClass(f.minErr), MaxClass: errClass(f.maxErr),
		LocalClass: errClass(f.localErr), RemoteClass: errClass(f.remoteErr),
		StartValue: htmlEscape(f.dateText(f.start, f.startText, s.loc, thai)),
		EndValue:   htmlEscape(f.dateText(f.end, f.endText, s.loc, thai)),
		Direction:  f.direction,
	}
	if f.minErr != "" {
		d.MinErrRow = "\n\t\t\t\t\t\t<tr>\n\t\t\t\t\t\t\t<td class=\"error\">" + htmlEscape(f.minErr) + "</td>\n\t\t\t\t\t\t</tr>\n\t\t\t\t\t"
	}
	if f.maxErr != "" {
		d.MaxErrRow = "\n\t\t\t\t\t\t<tr>\n\t\t\t\t\t\t\t<td class=\"error\">" + htmlEscape(f.maxErr) + "</td>\n\t\t\t\t\t\t</tr>\n\t\t\t\t\t"
	}
	// <tr jwcid="@If"> renders its body only: the error cell comes bare.
	if f.localErr != "" {
		d.LocalErrRow = "\n\t\t\t\t\t\t<td class=\"error\">" + htmlEscape(f.localErr) + "</td>\n\t\t\t\t\t"
	}
	if f.remoteErr != "" {
		d.RemoteErrRow = "\n\t\t\t\t\t\t<td class=\"error\">" + htmlEscape(f.remoteErr) + "</td>\n\t\t\t\t\t"
	}
	for i := range rows {
		r := &rows[i]
		rd := rowData{
			Class:    [2]string{"even", "odd"}[i%2],
			Time:     javaTimestamp(r.Time.In(s.loc)),
			Duration: strconv.Itoa(r.Duration),
			Local:    htmlEscape(r.LocalParty), Remote: htmlEscape(r.RemoteParty),
			In: r.Direction == In, Out: r.Direction == Out,
		}
		if !r.NoTape {
			rd.Tape = strconv.FormatInt(r.TapeID, 10)
			file := r.fileName(s.loc)
			rd.File = htmlEscape(file)
			rd.URL = htmlEscape("http://" + s.audioLinkHost() + audioPrefix + file)
		}
		d.Rows = append(d.Rows, rd)
	}
	for i, name := range []string{"mytablepaging", "mytablepaging2"} {
		p := pagingData{
			S: sh.S, Name: name,
			Page: ts.currentPage(), Pages: ts.numPages(), Results: ts.numResults,
		}
		for k := range min(ts.numPages(), 20) {
			p.Slider = append(p.Slider, map[bool]string{true: "cursor", false: "bar"}[ts.slider == k])
		}
		if i == 0 {
			d.Paging1 = p
		} else {
			d.Paging2 = p
		}
	}
	d.DatePickerInit = datePickerInit("DatePicker", f.start) + datePickerInit("DatePicker_0", f.end)
	d.VoiceIPScript = voiceIPScript
	s.write(rp, "recsegments.tmpl", d)
}

// audioLinkHost is the host:port OrecX's play links name.
func (s *Server) audioLinkHost() string {
	if s.opts.AudioLinkHost != "" {
		return s.opts.AudioLinkHost
	}
	return s.host
}

func ifValue(err string) string {
	if err != "" {
		return "T"
	}
	return "F"
}

func errClass(err string) string {
	if err != "" {
		return "error"
	}
	return ""
}

// javaTimestamp is java.sql.Timestamp.toString: "yyyy-mm-dd hh:mm:ss.f…",
// Gregorian whatever the locale, the fraction without trailing zeros but
// at least one digit.
func javaTimestamp(t time.Time) string {
	frac := strings.TrimRight(fmt.Sprintf("%09d", t.Nanosecond()), "0")
	if frac == "" {
		frac = "0"
	}
	return t.Format("2006-01-02 15:04:05") + "." + frac
}

// datePickerInit is DatePicker.script's initialization for one field:
// its calendar starts at the value's instant (epoch milliseconds).
func datePickerInit(name string, v *time.Time) string {
	obj := "calendar_" + name
	var b strings.Builder
	b.WriteString("\n")
	if v == nil {
		b.WriteString(obj + " = new Calendar();\n")
	} else {
		b.WriteString(obj + " = new Calendar(" + strconv.FormatInt(v.UnixMilli(), 10) + ");\n")
	}
	b.WriteString(obj + `.initialize([` + jsList(monthNames[:]) + "],\n  [" + jsList(shortMonthNames[:]) + "],\n  [" +
		jsList(weekdayNames[:]) + "],\n  [" + jsList(shortWeekdayNames[:]) + "],\n" +
		"  \"yyyy-MM-dd HH:mm:ss\", 0, false, 1, \"Clear\");\t\n")
	b.WriteString(obj + ".onchange = function() {\n  var field = document.Form." + name + ";\n  var value = " + obj +
		".formatDate();\n\tif (field.value != value) {\n    field.value = value;\n    if (field.onchange) field.onchange();\n  }\n}\n")
	return b.String()
}

var (
	monthNames        = [...]string{"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"}
	shortMonthNames   = [...]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}
	weekdayNames      = [...]string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"}
	shortWeekdayNames = [...]string{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"}
)

func jsList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = `"` + n + `"`
	}
	return strings.Join(q, ", ")
}

// voiceIPScript is what the voiceip fork's RecSegments.html adds at the
// end of its body: jQuery and the play-button handler.
const voiceIPScript = `<script
		src="https://code.jquery.com/jquery-3.4.1.slim.min.js"
		integrity="sha256-pasqAKBDmFT4eHoN2ndd6lN370kFiGUFyTiUHWhU7k8="
		crossorigin="anonymous"></script>

<script type="text/javascript">

function playStream(url) {
   var player = document.getElementById('player');
   player.src = url;
   player.play();
}

$(document).ready(function() {
    $("a.play-button").on("click", function(event){
		event.preventDefault();
        playStream( "/orkweb/stream/" + $(this).data('path'));
        return false;
    });
});

</script>
`

// errorShell is the Shell of Tapestry's own pages, whose stylesheet is
// the framework's Exception.css through the asset service.
func (s *Server) errorShell(rp *reply, page, title string) string {
	sh := s.shell(rp)
	return `<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01 Transitional//EN" "http://www.w3.org/TR/html4/loose.dtd">
<!-- Application: orkweb -->
<!-- Page: ` + page + ` -->
<!-- Generated: ` + sh.Generated + ` -->
<html>
<head>
<meta name="generator" content="Tapestry Application Framework, version 4.0.2"/>
<meta http-equiv="Content-Type" content="text/html;charset=UTF-8"/>
<base href="` + sh.Base + `"/>
<title>` + title + `</title>
<link rel="stylesheet" type="text/css" href="/orkweb/app` + sh.S + `?digest=` + digestExceptionCSS +
		`&amp;path=%2Forg%2Fapache%2Ftapestry%2Fpages%2FException.css&amp;service=asset"/>
</head>
`
}

func (s *Server) writeRaw(rp *reply, body string) {
	rp.w.Header().Set("Content-Type", "text/html;charset=UTF-8")
	_, _ = rp.w.Write([]byte(body))
}

// renderStaleSession answers Tapestry 4.0.2's StaleSession page
// (framework/src/java/org/apache/tapestry/pages/StaleSession.html), with
// 200 like every page.
func (s *Server) renderStaleSession(rp *reply) {
	s.mu.Lock()
	s.stats.StaleSessions++
	s.mu.Unlock()
	s.writeRaw(rp, s.errorShell(rp, "StaleSession", "Stale Session")+`


<body>
Your session has timed out.

<p>Web applications store information about what you are doing on the server.  This information
is called the <em>session</em>.

<p>Web servers must track many, many sessions.  If you
are inactive for a long enough time (usually, a few minutes), this information is discarded to
make room for active users.

<p>At this point you may <b>
<a href="/orkweb/app`+rp.rewrite()+`?service=restart">restart</a></b> the session to continue.

</body>

</html>
<!-- Render time: ~ 2 ms -->
`)
}

// renderStaleLink answers Tapestry's StaleLink page (a form posted with
// hidden fields that do not match the form).
func (s *Server) renderStaleLink(rp *reply, message string) {
	s.mu.Lock()
	s.stats.StaleLinks++
	s.mu.Unlock()
	s.writeRaw(rp, s.errorShell(rp, "StaleLink", "Stale Link")+`


<body>

You have clicked on a <i>stale link</i>.  

<p>
<span class="exception-message">`+htmlEscape(message)+`</span>

<p>This is most likely the result of using your
browser's <b>back</b> button, but can also be an application error.

<p>You may continue by returning to the
application's

<b>
<a href="/orkweb/app`+rp.rewrite()+`?page=Home&amp;service=page">home page</a></b>.

</body>


</html>
<!-- Render time: ~ 2 ms -->
`)
}

// renderException answers Tapestry's Exception page, with 200.
func (s *Server) renderException(rp *reply, class, message string) {
	s.mu.Lock()
	s.stats.Exceptions++
	s.mu.Unlock()
	s.writeRaw(rp, s.errorShell(rp, "Exception", "Exception")+`
<body>

<span class="exception-header">
An exception has occurred.
</span>

<p>You may continue by <b><a href="/orkweb/app`+rp.rewrite()+`?service=restart">restarting</a></b> the session.

<table class="exception-display">
<tr class="exception-name"><td colspan="2">`+htmlEscape(class)+`</td></tr>
<tr class="exception-message"><td colspan="2">`+htmlEscape(message)+`</td></tr>
</table>

</body>
</html>
<!-- Render time: ~ 5 ms -->
`)
}

// renderAccount answers the Account page (password change), which the
// connector never needs: its title is "OrkWeb".
func (s *Server) renderAccount(rp *reply) {
	sh := s.shell(rp)
	s.writeRaw(rp, strings.Replace(s.errorShell(rp, "Account", "OrkWeb"),
		"/orkweb/app"+sh.S+"?digest="+digestExceptionCSS+"&amp;path=%2Forg%2Fapache%2Ftapestry%2Fpages%2FException.css&amp;service=asset",
		"/orkweb/css/orekastyle.css"+sh.S, 1)+`

<body>
<p>Change password</p>
</body>
</html>
`)
}

func htmlEscape(s string) string { return html.EscapeString(s) }
