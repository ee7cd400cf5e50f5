package orkweb

import (
	"fmt"
	"io"
	"net/url"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/PuerkitoBio/goquery"
)

// Pager is the results table's paging bar (TablePaging.html). Its links
// are GETs that move the offset the session keeps: OrkWeb's paging is
// stateful, one walk per session.
type Pager struct {
	// Page and Pages are "Page X/Y": X counts from 1, Y is 0 when nothing
	// matched.
	Page, Pages int
	// Results is "N Results", the total the session's search matches.
	Results int
	// First, Previous, Next and Last are the links as written (root
	// relative, with ";jsessionid=…" when the server rewrites URLs); ""
	// when the bar lacks one.
	First, Previous, Next, Last string
}

// LastPage reports whether the page shown is the last one: "next" on it
// shows the same page again.
func (p Pager) LastPage() bool { return p.Page >= p.Pages }

var (
	pageXofY   = regexp.MustCompile(`^Page\s+(\d{1,9})\s*/\s*(\d{1,9})$`)
	nResults   = regexp.MustCompile(`^(\d{1,9})\s+Results$`)
	directLink = regexp.MustCompile(`\.\$DirectLink(_[0-2])?$`)
)

// ParsePager reads the first paging bar of the recordings page: "Page
// X/Y", "N Results" and its links, told apart by their icons
// (icon_pagefirst/prev/next/last.gif: every one has alt "First") or else
// by their component (….$DirectLink, _0, _1, _2).
func ParsePager(r io.Reader) (Pager, error) {
	doc, err := document(r)
	if err != nil {
		return Pager{}, err
	}
	return pager(doc)
}

func pager(doc *goquery.Document) (Pager, error) {
	bar := doc.Find("table.paging").First()
	if bar.Length() == 0 {
		return Pager{}, notFound("no paging bar (table.paging)")
	}
	var p Pager
	var pageText, resultsText []string
	// Each in its own cell: read the innermost cells one by one.
	bar.Find("td:not(:has(td))").EachWithBreak(func(_ int, td *goquery.Selection) bool {
		t := text(td)
		if pageText == nil {
			pageText = pageXofY.FindStringSubmatch(t)
		}
		if resultsText == nil {
			resultsText = nResults.FindStringSubmatch(t)
		}
		return pageText == nil || resultsText == nil
	})
	if pageText == nil {
		return Pager{}, notFound("paging bar without \"Page X/Y\"")
	}
	p.Page, _ = strconv.Atoi(pageText[1])
	p.Pages, _ = strconv.Atoi(pageText[2])
	if p.Page < 1 {
		return Pager{}, fmt.Errorf("orkweb: paging bar says %q: %w", pageText[0], ErrNotFound)
	}
	if resultsText == nil {
		return Pager{}, notFound("paging bar without \"N Results\"")
	}
	p.Results, _ = strconv.Atoi(resultsText[1])
	bar.Find("a[href]").Each(func(_ int, a *goquery.Selection) {
		href := a.AttrOr("href", "")
		var slot *string
		switch icon := strings.ToLower(path.Base(a.Find("img").First().AttrOr("src", ""))); {
		case strings.HasPrefix(icon, "icon_pagefirst"):
			slot = &p.First
		case strings.HasPrefix(icon, "icon_pageprev"):
			slot = &p.Previous
		case strings.HasPrefix(icon, "icon_pagenext"):
			slot = &p.Next
		case strings.HasPrefix(icon, "icon_pagelast"):
			slot = &p.Last
		default:
			switch componentLink(href) {
			case "":
				slot = &p.First
			case "_0":
				slot = &p.Previous
			case "_1":
				slot = &p.Next
			case "_2":
				slot = &p.Last
			}
		}
		if slot != nil && *slot == "" {
			*slot = href
		}
	})
	if p.Next == "" {
		return Pager{}, notFound("paging bar without a \"next\" link")
	}
	return p, nil
}

// componentLink is the suffix of a paging link's DirectLink ("", "_0",
// "_1", "_2"), or "-" when href is not one.
func componentLink(href string) string {
	u, err := url.Parse(href)
	if err != nil {
		return "-"
	}
	m := directLink.FindStringSubmatch(u.Query().Get("component"))
	if m == nil || !strings.Contains(u.Query().Get("component"), "paging") {
		return "-"
	}
	return m[1]
}

// Page is every part of one OrkWeb answer, from a single parse.
type Page struct {
	Outcome
	// Login is the log-in form, on PageLogin and PageLoginFailed.
	Login *LoginForm
	// Search is the search form, on PageRecordings and PageNoResults.
	Search *SearchForm
	// Rows are the table's rows, on PageRecordings.
	Rows []Row
	// Pager is the first paging bar, on PageRecordings.
	Pager *Pager
}

// ParsePage reads a whole answer once: what it is, and the parts its kind
// has (times in loc, the server's zone). A page that lacks a part its
// kind must have is an error naming it; the Outcome is returned with it.
func ParsePage(r io.Reader, loc *time.Location) (Page, error) {
	doc, err := document(r)
	if err != nil {
		return Page{}, err
	}
	var p Page
	if p.Outcome, err = outcome(doc); err != nil {
		return p, err
	}
	switch p.Kind {
	case PageLogin, PageLoginFailed:
		f, err := loginForm(doc)
		if err != nil {
			return p, err
		}
		p.Login = &f
	case PageRecordings, PageNoResults:
		f, err := searchForm(doc)
		if err != nil {
			return p, err
		}
		p.Search = &f
		if p.Kind == PageNoResults {
			break
		}
		if p.Rows, err = rows(doc, loc); err != nil {
			return p, err
		}
		pg, err := pager(doc)
		if err != nil {
			return p, err
		}
		p.Pager = &pg
	}
	return p, nil
}
