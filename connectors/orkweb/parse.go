// Package orkweb is the connector of a self-hosted Oreka, read through the
// HTML pages of its OrkWeb (Tapestry 4.0.2, under /orkweb/app).
//
// This file holds the parsing: pure functions over a page's bytes (the
// caller bounds the reader) that return what the connector needs, or an
// error that says what the page lacks. The pages are those of
// ../shared/orkweb and of OrkWeb's templates (OrecX/Oreka
// orkweb/context/WEB-INF/{Home,RecSegments}.html, TablePaging.html,
// TableHeader.html; the voiceip/oreka fork's RecSegments.html).
package orkweb

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/PuerkitoBio/goquery"
	"golang.org/x/net/html"
)

// ErrNotFound is wrapped by every error of a page that lacks what was
// looked for.
var ErrNotFound = errors.New("not found on the page")

// ErrInvalidRow is wrapped by Row.Invalid.
var ErrInvalidRow = errors.New("invalid row")

func notFound(format string, args ...any) error {
	return fmt.Errorf("orkweb: %s: %w", fmt.Sprintf(format, args...), ErrNotFound)
}

// document reads a whole page.
func document(r io.Reader) (*goquery.Document, error) {
	doc, err := goquery.NewDocumentFromReader(r)
	if err != nil {
		return nil, fmt.Errorf("orkweb: read the page: %w", err)
	}
	return doc, nil
}

// text is a selection's text, its whitespace collapsed.
func text(s *goquery.Selection) string { return strings.Join(strings.Fields(s.Text()), " ") }

// PageKind is what an OrkWeb answer is. Every one of them comes with HTTP
// 200: the title tells them apart.
type PageKind int

const (
	// PageUnknown is a page none of the others is.
	PageUnknown PageKind = iota
	// PageLogin is the log-in page (Home, "Welcome to OrkWeb") without an
	// error: a fresh one, or what a dead session gets for any page.
	PageLogin
	// PageLoginFailed is Home with "Invalid login or password" (wrong
	// credentials, or a database OrkWeb cannot reach).
	PageLoginFailed
	// PageRecordings is RecSegments ("Browse segments") with a table.
	PageRecordings
	// PageNoResults is RecSegments saying "There were no results": nothing
	// matched, or the database is down (OrkWeb shows both alike).
	PageNoResults
	// PageStaleSession is Tapestry's "Stale Session": a form posted with
	// session=T against a session that is gone.
	PageStaleSession
	// PageStaleLink is Tapestry's "Stale Link": a form posted with hidden
	// fields that do not match it.
	PageStaleLink
	// PageException is Tapestry's "Exception" page.
	PageException
)

// String names the kind.
func (k PageKind) String() string {
	switch k {
	case PageLogin:
		return "log-in page"
	case PageLoginFailed:
		return "log-in failed"
	case PageRecordings:
		return "recordings"
	case PageNoResults:
		return "no results"
	case PageStaleSession:
		return "stale session"
	case PageStaleLink:
		return "stale link"
	case PageException:
		return "exception"
	}
	return "unknown page"
}

// Titles of the pages (OrkWeb's Home.html and RecSegments.html, Tapestry's
// StaleSession.html, StaleLink.html and Exception.html).
const (
	titleHome         = "Welcome to OrkWeb"
	titleRecSegments  = "Browse segments"
	titleStaleSession = "Stale Session"
	titleStaleLink    = "Stale Link"
	titleException    = "Exception"
	noResultsText     = "There were no results"
)

// Outcome is what a page is.
type Outcome struct {
	Kind PageKind
	// Title is the page's <title>.
	Title string
	// Message is the log-in page's red message ("Invalid login or
	// password"), or the exception message of a Stale Link or Exception
	// page.
	Message string
	// Generated is the text of Tapestry's "<!-- Generated: … -->" comment,
	// java.util.Date.toString of the server's clock in its zone ("Fri Mar
	// 01 15:02:11 ICT 2024"); "" when the page has none.
	Generated string
}

// ParseOutcome tells what page r is, by its title (and, for Home and
// RecSegments, its content). A page whose title is none of OrkWeb's is
// PageUnknown with an error naming the title.
func ParseOutcome(r io.Reader) (Outcome, error) {
	doc, err := document(r)
	if err != nil {
		return Outcome{}, err
	}
	return outcome(doc)
}

func outcome(doc *goquery.Document) (Outcome, error) {
	o := Outcome{Generated: generated(doc)}
	t := doc.Find("title").First()
	if t.Length() == 0 {
		return o, notFound("no <title>")
	}
	o.Title = text(t)
	switch o.Title {
	case titleHome:
		o.Kind = PageLogin
		if msg := text(doc.Find(`font[color="red"]`).First()); msg != "" {
			o.Kind, o.Message = PageLoginFailed, msg
		}
	case titleRecSegments:
		switch {
		case doc.Find("tr.header, tr.even, tr.odd, table.paging").Length() > 0:
			o.Kind = PageRecordings
		case hasNoResults(doc):
			o.Kind = PageNoResults
		default:
			return o, notFound("%q page without a results table or %q", o.Title, noResultsText)
		}
	case titleStaleSession:
		o.Kind = PageStaleSession
	case titleStaleLink, titleException:
		o.Kind = PageStaleLink
		if o.Title == titleException {
			o.Kind = PageException
		}
		o.Message = text(doc.Find(".exception-message").First())
	default:
		return o, fmt.Errorf("orkweb: a page titled %q is none of OrkWeb's: %w", o.Title, ErrNotFound)
	}
	return o, nil
}

func hasNoResults(doc *goquery.Document) bool {
	return doc.Find("td").FilterFunction(func(_ int, s *goquery.Selection) bool {
		return text(s) == noResultsText
	}).Length() > 0
}

// generated finds Tapestry's "Generated:" comment.
func generated(doc *goquery.Document) string {
	var found string
	var walk func(n *html.Node, depth int)
	walk = func(n *html.Node, depth int) {
		for c := n.FirstChild; c != nil && found == ""; c = c.NextSibling {
			if c.Type == html.CommentNode {
				if g, ok := strings.CutPrefix(strings.TrimSpace(c.Data), "Generated:"); ok {
					found = strings.TrimSpace(g)
					return
				}
			}
			if depth < 2 {
				walk(c, depth+1)
			}
		}
	}
	for _, n := range doc.Nodes {
		walk(n, 0)
	}
	return found
}

// Field is a form field's name and value.
type Field struct{ Name, Value string }

// Form is an HTML form as the page has it.
type Form struct {
	// Action is the form's action as written: "/orkweb/app", or with
	// ";jsessionid=…" when the server rewrites URLs.
	Action string
	// Method is the form's method, lower case ("post").
	Method string
	// Hidden is every hidden field, in page order: Tapestry wants them all
	// back as they are.
	Hidden []Field
}

// Values returns the hidden fields.
func (f Form) Values() url.Values {
	v := url.Values{}
	for _, h := range f.Hidden {
		v.Add(h.Name, h.Value)
	}
	return v
}

func form(s *goquery.Selection) Form {
	f := Form{Action: s.AttrOr("action", ""), Method: strings.ToLower(s.AttrOr("method", "get"))}
	s.Find("input").Each(func(_ int, in *goquery.Selection) {
		if strings.EqualFold(in.AttrOr("type", ""), "hidden") {
			if name, ok := in.Attr("name"); ok {
				f.Hidden = append(f.Hidden, Field{name, in.AttrOr("value", "")})
			}
		}
	})
	return f
}

// labelled returns the input in the table row whose first cell reads
// label (OrkWeb's forms are two-cell rows: label, field).
func labelled(form *goquery.Selection, label string) *goquery.Selection {
	var in *goquery.Selection
	form.Find("tr").EachWithBreak(func(_ int, tr *goquery.Selection) bool {
		cells := tr.ChildrenFiltered("td")
		if cells.Length() < 2 || !strings.EqualFold(text(cells.First()), label) {
			return true
		}
		if i := cells.Eq(1).Find("input").First(); i.Length() > 0 {
			in = i
			return false
		}
		return true
	})
	return in
}

// LoginForm is the log-in page's form.
type LoginForm struct {
	Form
	// UserField and PasswordField are the names of the username and
	// password inputs ("TextField", "TextField_0": Tapestry names fields
	// by template order).
	UserField, PasswordField string
	// SubmitName and SubmitValue are the button's ("Submit", "Login"):
	// the log-in runs from the button's listener, so the request must
	// carry them.
	SubmitName, SubmitValue string
}

// Values is the form to post: every hidden field as parsed, the
// credentials and the button.
func (f LoginForm) Values(user, password string) url.Values {
	v := f.Form.Values()
	v.Set(f.UserField, user)
	v.Set(f.PasswordField, password)
	v.Set(f.SubmitName, f.SubmitValue)
	return v
}

// ParseLoginForm reads the log-in page's form: the form with a password
// field, its action, its hidden fields, the username field (the input
// labelled "Username", else the form's first text input), the password
// field and the named submit button.
func ParseLoginForm(r io.Reader) (LoginForm, error) {
	doc, err := document(r)
	if err != nil {
		return LoginForm{}, err
	}
	return loginForm(doc)
}

func loginForm(doc *goquery.Document) (LoginForm, error) {
	fs := doc.Find("form").FilterFunction(func(_ int, s *goquery.Selection) bool {
		return s.Find(`input[type="password" i]`).Length() > 0
	}).First()
	if fs.Length() == 0 {
		return LoginForm{}, notFound("log-in page: no form with a password field")
	}
	f := LoginForm{Form: form(fs)}
	if f.Action == "" {
		return LoginForm{}, notFound("log-in page: the form has no action")
	}
	user := labelled(fs, "Username")
	if user == nil || user.AttrOr("name", "") == "" {
		user = fs.Find(`input[type="text" i], input:not([type])`).First()
	}
	f.UserField = user.AttrOr("name", "")
	f.PasswordField = fs.Find(`input[type="password" i]`).First().AttrOr("name", "")
	submit := fs.Find(`input[type="submit" i][name]`).First()
	f.SubmitName, f.SubmitValue = submit.AttrOr("name", ""), submit.AttrOr("value", "")
	var missing []string
	if f.UserField == "" {
		missing = append(missing, "a username field")
	}
	if f.PasswordField == "" {
		missing = append(missing, "a named password field")
	}
	if f.SubmitName == "" {
		missing = append(missing, "a named submit button")
	}
	if len(missing) > 0 {
		return LoginForm{}, notFound("log-in form without %s", strings.Join(missing, ", "))
	}
	return f, nil
}
