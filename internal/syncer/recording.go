package syncer

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"

	"github.com/crkai/syncd/connectors"
	"github.com/crkai/syncd/internal/audioformat"
	"github.com/crkai/syncd/internal/deps"
	"github.com/crkai/syncd/internal/sink"
	"github.com/crkai/syncd/internal/state"
)

// errUnverifiable: a re-extraction may have been sent, and CRK cannot be
// asked whether it was. Sending it again might charge the business twice.
var errUnverifiable = errors.New("cannot tell whether AI processing was already asked for")

// errNoProof: a re-extraction may have been sent, and what CRK shows does
// not prove it either way yet. Later passes look again; a person decides
// if no proof comes.
var errNoProof = errors.New("no proof yet that AI processing was asked for")

// errAudioRefused: the source refuses one recording's audio even after a
// fresh log-in. It will not fix itself by retrying.
var errAudioRefused = errors.New("audio refused by the source")

// recording takes one recording as far as it can go in this pass. It
// returns what happened, whether the recording is finished (done or
// quarantined), and an error only when the whole pass must stop.
func (s *Syncer) recording(ctx context.Context, c connectors.Connector, rec connectors.Recording, known state.Record, ok bool) (Item, bool, error) {
	src := c.Name()
	r := known
	if !ok {
		r = state.Record{ID: rec.ID, DataID: rec.DataID, CallAt: rec.CallAt, Step: state.Pending}
	}
	r.Missing = 0 // listed
	it := Item{Recording: rec}
	if rec.Invalid == nil && rec.Direction == "" {
		if s.cfg.UnknownDirection == "quarantine" {
			rec.Invalid = fmt.Errorf("the source does not say the call's direction, and SYNCD_UNKNOWN_DIRECTION=quarantine: %w", connectors.ErrInvalid)
		} else {
			rec.Direction = s.cfg.UnknownDirection
			it.Recording = rec
		}
	}
	if rec.Invalid != nil {
		it.Quarantined = rec.Invalid.Error()
		s.count(src, "invalid")
		return it, true, s.quarantine(ctx, src, &r, it.Quarantined)
	}
	var err error
	it.Bytes, err = s.tries(ctx, c, rec, &r)
	switch {
	case err == nil:
		s.m.synced.WithLabelValues(src).Inc()
		return it, true, nil
	case fatal(err):
		it.Err = err
		return it, false, err
	case ctx.Err() != nil:
		it.Err = err
		return it, false, nil // stopping: the state holds the last step done
	}
	it.Err = err
	r.Attempts++
	r.LastError = err.Error()
	limit := s.cfg.MaxAttempts
	if errors.Is(err, errNoProof) {
		limit = s.cfg.VerifyAttempts
	}
	if !permanent(err) && r.Attempts < limit {
		s.fail(src, rec, reason(err), err)
	} else {
		s.count(src, reason(err)) // the quarantine's own line says why
	}
	if permanent(err) || r.Attempts >= limit {
		why := err.Error()
		if !permanent(err) {
			why = fmt.Sprintf("gave up after %d failed passes: %s", r.Attempts, why)
		}
		it.Quarantined = why
		return it, true, s.quarantine(ctx, src, &r, why)
	}
	return it, false, s.put(ctx, src, &r)
}

// tries runs advance, and again after a short wait while the source's
// side fails in a way that may pass at once (soonRetryable), up to
// PassTries in all. A failure from CRK is never sent again here: the sink
// has retried the request already, and the next pass is the retry.
func (s *Syncer) tries(ctx context.Context, c connectors.Connector, rec connectors.Recording, r *state.Record) (int64, error) {
	for try := 1; ; try++ {
		n, err := s.advance(ctx, c, rec, r)
		if err == nil || try >= s.cfg.PassTries || !soonRetryable(err) || ctx.Err() != nil {
			return n, err
		}
		s.fail(c.Name(), rec, reason(err), err)
		if werr := deps.Sleep(ctx, s.cfg.RetryBase<<(try-1)); werr != nil {
			return n, err
		}
	}
}

// advance runs the steps left for r: find out what became of a
// re-extraction whose answer was lost, create and upload, then re-extract.
// It returns the audio bytes sent.
//
// Of the steps, only asking for AI processing costs money, so only its
// intent must be on disk before it goes out: creating is idempotent, and an
// upload whose record is lost is merely redone. The record after a
// successful upload is therefore the same write as that intent
// (reextract-sent implies uploaded), which halves the fsyncs of a
// recording. A failed try is recorded with the step it reached.
func (s *Syncer) advance(ctx context.Context, c connectors.Connector, rec connectors.Recording, r *state.Record) (int64, error) {
	src := c.Name()
	if r.Step == state.ReextractSent {
		if err := s.verify(ctx, r); err != nil || r.Step == state.Done {
			if err == nil {
				err = s.put(ctx, src, r)
			}
			return 0, err
		}
	}
	var sent int64
	if r.Step < state.Uploaded {
		n, err := s.upload(ctx, c, rec, r)
		sent = n
		if err != nil {
			return sent, err
		}
		r.Step = state.Uploaded
	}
	if s.vocab.needsProbe(s.now()) {
		// Learn what CRK shows before processing is asked for: without it,
		// no other word than "completed" can ever prove processing.
		if remote, err := s.sink.Find(ctx, r.DataID); err == nil && remote != nil && !remote.Completed() {
			s.vocab.learnBefore(remote.Status(), s.now())
			s.saveVocabulary(ctx)
		}
	}
	// A person's retry allows one request, and this is it: if its answer
	// is lost too, what became of it is found out as for any other.
	r.Step, r.Retried = state.ReextractSent, false
	if err := s.put(ctx, src, r); err != nil {
		return sent, err
	}
	out, err := s.sink.Reextract(ctx, r.CRKID)
	var ae *sink.APIError
	switch {
	case err == nil:
	case errors.As(err, &ae) && ae.Status == 429:
		r.Step = state.Uploaded // CRK surely did not act
		return sent, errors.Join(err, s.put(ctx, src, r))
	case errors.Is(err, sink.ErrNotFound):
		return sent, fmt.Errorf("CRK no longer has recording %s (deleted there?): %w", r.CRKID, err)
	default:
		return sent, err
	}
	s.vocab.learnAfter(out.Status)
	s.saveVocabulary(ctx)
	r.Step = state.Done
	return sent, s.put(ctx, src, r)
}

// verify finds out what became of r's re-extraction, which was sent and
// whose answer was lost (or a crash came between), before anything is
// sent again. It sets r.Step to Done on proof of processing; to the step
// to resume from where a person asked for a retry and CRK shows no proof;
// and otherwise leaves it and returns why not.
func (s *Syncer) verify(ctx context.Context, r *state.Record) error {
	remote, err := s.sink.Find(ctx, r.DataID)
	switch {
	case errors.Is(err, sink.ErrInsufficientScope):
		return fmt.Errorf("%w: %w; grant the token view_recording_all, then run syncd -retry-quarantined -data-id %s", errUnverifiable, err, r.DataID)
	case err != nil:
		return fmt.Errorf("checking whether CRK processed %s: %w", r.DataID, err)
	case remote == nil && r.Retried:
		r.Step = state.Pending // a person asked: create it again
		return nil
	case remote == nil:
		// Created, yet not listed: deleted at CRK, or a token that may
		// not read it. Creating it again would pay for it again.
		return fmt.Errorf("%w: CRK does not list %s, which syncd created (deleted there?); to send it again, run syncd -retry-quarantined -data-id %s",
			errUnverifiable, r.DataID, r.DataID)
	case s.vocab.proves(remote):
		r.Step, r.Retried = state.Done, false
		return nil
	case r.Retried || s.vocab.disproves(remote):
		// A person looked and asked again, or CRK shows the word it shows
		// before processing is asked for: resume from the upload, which
		// costs nothing, so that a missing audio file is sent too.
		r.Step = state.Pending
		return nil
	}
	return fmt.Errorf("%w: CRK shows processingStatus %q for %s; if the dashboard shows no transcript, run syncd -retry-quarantined -data-id %s",
		errNoProof, remote.ProcessingStatus, r.DataID, r.DataID)
}

// upload opens the audio, creates the recording at CRK (which gives the
// upload URL) and streams the audio to it. An expired URL is healed once by
// creating again.
func (s *Syncer) upload(ctx context.Context, c connectors.Connector, rec connectors.Recording, r *state.Record) (int64, error) {
	var sent int64
	for healed := false; ; healed = true {
		n, err := s.uploadOnce(ctx, c, rec, r)
		sent += n
		if err == nil || !errors.Is(err, sink.ErrUploadExpired) || healed {
			return sent, err
		}
		s.log.Info("upload URL expired, asking CRK for a fresh one", "source", c.Name(), "dataId", rec.DataID)
	}
}

// uploadOnce is one try of upload. Audio of unknown length is spooled
// first, so that its PUT carries a Content-Length.
func (s *Syncer) uploadOnce(ctx context.Context, c connectors.Connector, rec connectors.Recording, r *state.Record) (int64, error) {
	audio, err := c.Open(ctx, rec)
	if errors.Is(err, connectors.ErrForbidden) {
		// Logged in, yet refused this one file: a recording of another
		// team, say. That is this recording's problem, not the pass's.
		return 0, fmt.Errorf("%w: the source refuses the audio of %s: %v", errAudioRefused, rec.DataID, err)
	}
	if err != nil {
		return 0, fmt.Errorf("opening the audio of %s: %w", rec.DataID, err)
	}
	defer audio.Body.Close()
	counted := &countingReader{r: audio.Body, progress: func() { s.moved(c.Name()) }}
	// The bytes say what the audio is, whatever the server claimed: a
	// log-in page or an error document served with 200 is never paid for.
	br := bufio.NewReaderSize(counted, audioformat.HeadSize)
	head, err := br.Peek(audioformat.HeadSize)
	if err != nil && !errors.Is(err, io.EOF) {
		return counted.n.Load(), fmt.Errorf("reading the audio of %s: %w", rec.DataID, err)
	}
	format, err := audioformat.Sniff(head, cmp.Or(audio.ContentType, rec.ContentType))
	if err != nil {
		// Most often a session or a server in trouble: a later pass may
		// get the audio; past the attempts it is quarantined with this.
		return counted.n.Load(), fmt.Errorf("%w: the audio of %s is %w", connectors.ErrNotReady, rec.DataID, err)
	}
	var body io.Reader = br
	size := audio.Size
	if size < 0 {
		sp, err := s.cfg.Spool.Take(ctx, br)
		if err != nil {
			return 0, fmt.Errorf("reading the audio of %s: %w", rec.DataID, err)
		}
		defer sp.Close()
		body, size = sp, sp.Size
	}
	ct := format.ContentType
	created, err := s.sink.Create(ctx, sink.Recording{
		DataID:           rec.DataID,
		CallAt:           rec.CallAt.In(s.cfg.Location),
		Direction:        rec.Direction,
		CustomerPhone:    rec.CustomerPhone,
		CallcenterNumber: rec.AgentNumber,
		CallcenterName:   rec.AgentName,
		ContentType:      ct,
	})
	if err != nil {
		return 0, err
	}
	if r.Step < state.Created || r.CRKID != created.ID {
		r.CRKID, r.Step = created.ID, state.Created // saved with the next write
	}
	if created.UploadURL == "" {
		remote, err := s.sink.Find(ctx, r.DataID)
		if err == nil && remote != nil && remote.AudioURL != "" {
			return 0, nil // CRK holds the audio already
		}
		return 0, fmt.Errorf("%s: %w", r.DataID, sink.ErrNoUploadURL)
	}
	err = s.sink.Upload(ctx, created.UploadURL, ct, body, size)
	n := counted.n.Load()
	s.m.audioBytes.WithLabelValues(c.Name()).Add(float64(n))
	if ferr := counted.failure(); ferr != nil {
		// The source broke off the stream: its error says why better.
		return n, fmt.Errorf("reading the audio of %s: %w", rec.DataID, ferr)
	}
	return n, err
}

// saveVocabulary writes what was just learned of CRK's status words, so
// that a crash does not forget it. Learning is rare: most calls write
// nothing.
func (s *Syncer) saveVocabulary(ctx context.Context) {
	if err := s.vocab.save(context.WithoutCancel(ctx), s.store); err != nil {
		s.log.Warn("saving what was learned of CRK's statuses failed", "err", err)
	}
}

func (s *Syncer) put(ctx context.Context, src string, r *state.Record) error {
	s.moved(src)
	if err := s.store.Put(context.WithoutCancel(ctx), src, *r); err != nil {
		return &stateError{fmt.Errorf("saving the state of %s: %w", r.DataID, err)}
	}
	return nil
}

func (s *Syncer) quarantine(ctx context.Context, src string, r *state.Record, why string) error {
	r.Quarantined = why
	s.log.Warn("recording quarantined", "source", src, "dataId", r.DataID, "reason", why)
	err := s.put(ctx, src, r)
	var se *stateError
	if errors.As(err, &se) {
		return err
	}
	return nil
}

// fail counts and logs one failed attempt.
func (s *Syncer) fail(src string, rec connectors.Recording, why string, err error) {
	s.count(src, why)
	s.log.Warn("recording failed", "source", src, "dataId", rec.DataID, "reason", why, "err", err)
}

// count counts one failed attempt, without a log line.
func (s *Syncer) count(src, why string) {
	s.m.failed.WithLabelValues(src, why).Inc()
}

// stateError is a failure to write the state file: the pass must stop,
// since what it does next could not be remembered.
type stateError struct{ err error }

func (e *stateError) Error() string { return e.err.Error() }
func (e *stateError) Unwrap() error { return e.err }

// fatal errors stop the whole pass: nothing else will work until an
// operator acts.
func fatal(err error) bool {
	var se *stateError
	return sink.IsAuth(err) && !errors.Is(err, errUnverifiable) ||
		errors.Is(err, connectors.ErrAuth) || errors.Is(err, connectors.ErrForbidden) || errors.As(err, &se)
}

// permanent errors quarantine the recording at once.
func permanent(err error) bool {
	return connectors.Permanent(err) || errors.Is(err, errUnverifiable) || errors.Is(err, errAudioRefused) ||
		errors.Is(err, sink.ErrUploadRejected) || sink.Permanent(err)
}

// soonRetryable errors are worth another try within the same pass: the
// source's passing trouble. CRK's failures were retried by the sink
// already, audio not ready waits for the next pass, and a missing proof
// does not appear within seconds.
func soonRetryable(err error) bool {
	return !errors.Is(err, connectors.ErrNotReady) && !errors.Is(err, errNoProof) &&
		!permanent(err) && !fatal(err) && !fromCRK(err)
}

// fromCRK reports whether err is an answer, or the lack of one, from CRK
// or its storage.
func fromCRK(err error) bool {
	var ae *sink.APIError
	var ne *sink.NetError
	var ue *sink.UploadError
	return errors.As(err, &ae) || errors.As(err, &ne) || errors.As(err, &ue)
}

// crkUnavailable reports whether err says CRK is down or overloaded, not
// that it refused this one request.
func crkUnavailable(err error) bool {
	var ae *sink.APIError
	var ne *sink.NetError
	var ue *sink.UploadError
	switch {
	case errors.As(err, &ae):
		return ae.Status >= 500 || ae.Status == 429
	case errors.As(err, &ue):
		return ue.Status >= 500
	case errors.As(err, &ne):
		return true
	}
	return false
}

// reason is the bounded label of syncd_recordings_failed_total.
func reason(err error) string {
	var ae *sink.APIError
	var ue *sink.UploadError
	switch {
	case errors.Is(err, connectors.ErrNotReady):
		return "not_ready"
	case errors.Is(err, connectors.ErrGone):
		return "gone"
	case errors.Is(err, connectors.ErrInvalid):
		return "invalid"
	case errors.Is(err, errUnverifiable), errors.Is(err, errNoProof):
		return "unverifiable"
	case errors.As(err, &ue), errors.Is(err, sink.ErrNoUploadURL):
		return "upload"
	case errors.As(err, &ae) && ae.Status == 429:
		return "crk_rate_limited"
	case errors.As(err, &ae) && ae.Status >= 500:
		return "crk_unavailable"
	case errors.As(err, &ae):
		return "crk_rejected"
	case errors.As(err, new(*sink.NetError)):
		return "crk_network"
	}
	return "source"
}

// countingReader counts the audio bytes read and keeps the source's first
// error. It may still be read by the upload's pump after an upload that
// stalled returns, hence the atomics.
type countingReader struct {
	r        io.Reader
	n        atomic.Int64
	err      atomic.Pointer[error] // the first error other than EOF
	progress func()
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	c.progress()
	if err != nil && err != io.EOF {
		c.err.CompareAndSwap(nil, &err)
	}
	return n, err
}

// failure is the source's error, if it broke off the stream.
func (c *countingReader) failure() error {
	if e := c.err.Load(); e != nil {
		return *e
	}
	return nil
}
