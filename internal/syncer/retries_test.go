package syncer

import (
	"testing"

	"github.com/crkai/syncd/internal/fake/fakecrk"
)

// TestCRKFailureIsNotResentInThePass: retries do not multiply. A request
// that CRK fails on every one of the sink's attempts (6 in this env) is
// not sent again by the syncer in the same pass, although PassTries gives
// a source's passing trouble 3 tries; the next pass is the retry.
func TestCRKFailureIsNotResentInThePass(t *testing.T) {
	e := newEnv(t, Config{Concurrency: 1, PassTries: 3})
	ids := addN(e, 1, 4<<10)
	e.crk.FailNext(fakecrk.EndpointCreate, 503, 6)
	res := e.pass()
	if res.Synced != 0 || res.Failed != 1 {
		t.Fatalf("pass with CRK failing: %+v, want the recording failed", res)
	}
	if n := e.crk.Count(fakecrk.EndpointCreate); n != 6 {
		t.Fatalf("%d creates in the pass, want the sink's 6 attempts and no more", n)
	}
	res = e.pass()
	if res.Synced != 1 {
		t.Fatalf("next pass: %+v, want the recording synced", res)
	}
	if n := e.crk.Count(fakecrk.EndpointCreate); n != 7 {
		t.Fatalf("%d creates after the next pass, want 7", n)
	}
	e.checkAllOnce(ids...)
}
