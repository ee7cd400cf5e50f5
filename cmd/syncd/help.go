package main

import (
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/crkai/syncd/internal/config"
	"github.com/crkai/syncd/internal/sources"
)

// wantsHelp reports whether args ask for help (-h, -help, --help).
func wantsHelp(args []string) bool {
	for _, a := range args {
		if a == "-h" || a == "-help" || a == "--help" {
			return true
		}
	}
	return false
}

// printHelp is `syncd -h`: the whole manual in brief, on stdout.
func printHelp(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprint(w, "syncd pulls call recordings out of phone systems ("+sourceTitles()+")\n")
	fmt.Fprint(w, `and hands each to the CRK Call Recording AI API: metadata, the audio, and one
request for AI processing. It is configured through the environment.

Usage:
  syncd [flag]

Flags (at most one of the commands):
`)
	out := fs.Output()
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(out)
	fmt.Fprint(w, "\nEnvironment (a secret X may also be given as X_FILE, or as the systemd credential x):\n")
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	for _, v := range config.Reference {
		def := v.Default
		if def == "" {
			def = "-"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", v.Name, def, v.Help)
	}
	tw.Flush()
	fmt.Fprint(w, `
Exit codes:
  0  done (the daemon: stopped on SIGTERM/SIGINT)
  1  a recording or a source failed (-once), a check failed (-test-connection),
     or the daemon could not start (state file locked or damaged, address taken)
  2  invalid configuration or flags: every problem is listed

Examples:
  # Check every log-in, the listing, the audio and the CRK token; writes nothing.
  CRK_API_TOKEN=crk_... DTAC_USERNAME=+66812345678 DTAC_PASSWORD_FILE=/run/secrets/dtac syncd -test-connection

  # One pass of every source, then exit (1 if anything failed).
  syncd -once

  # Send again the quarantined recordings of one source whose audio was gone.
  syncd -retry-quarantined -source dtac -reason "audio gone"

  # Try it without a phone system: the daemon on built-in fakes that keep
  # adding calls; its page on http://127.0.0.1:9464/ (SYNCD_LISTEN_ADDR).
  syncd -demo -serve

More: README.md, and docs/ (guarantees, troubleshooting, monitoring).
`)
}

// shortUsage is what a bad flag prints, on stderr.
func shortUsage(w io.Writer) func() {
	return func() {
		fmt.Fprintln(w, strings.TrimSpace("run syncd -h for every flag and environment variable"))
	}
}

// sourceTitles names every kind of source as people know it:
// "DTAC One Call, 3CX V20, Oreka (OrkWeb)".
func sourceTitles() string {
	var titles []string
	for _, k := range sources.All() {
		titles = append(titles, k.Title)
	}
	return strings.Join(titles, ", ")
}
