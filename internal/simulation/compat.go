package simulation

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"time"

	"github.com/crkai/syncd/internal/state"
	"github.com/crkai/syncd/internal/syncer"
)

// The two calls below reach APIs that are changing (syncer.Config.MaxCall
// is being added; Store.RetryQuarantined goes from a source name to a
// state.Selection). They are reached by reflection so that the simulation
// builds on either side of the change; once it has landed, each is one
// plain line (shown in its comment).

// setMaxCall sets cfg.MaxCall to d and reports whether syncer.Config has
// that field. Once it exists everywhere: cfg.MaxCall = d.
func setMaxCall(cfg *syncer.Config, d time.Duration) bool {
	f := reflect.ValueOf(cfg).Elem().FieldByName("MaxCall")
	if !f.IsValid() || f.Type() != reflect.TypeFor[time.Duration]() {
		return false
	}
	f.SetInt(int64(d))
	return true
}

// hasMaxCall reports whether syncer.Config has a MaxCall field.
func hasMaxCall() bool {
	var cfg syncer.Config
	return setMaxCall(&cfg, 0)
}

// releaseQuarantine is the operator's `syncd -retry-quarantined` for every
// quarantined recording of source: the simulation's only call of the
// store's retry. With the Selection API it is:
//
//	_, err := st.RetryQuarantined(ctx, state.Selection{Source: source})
func releaseQuarantine(ctx context.Context, st *state.Store, source string) error {
	m := reflect.ValueOf(st).MethodByName("RetryQuarantined")
	if !m.IsValid() || m.Type().NumIn() != 2 || m.Type().NumOut() == 0 {
		return errors.New("state.Store has no RetryQuarantined(ctx, selection)")
	}
	arg := reflect.New(m.Type().In(1)).Elem()
	switch {
	case arg.Kind() == reflect.String:
		arg.SetString(source)
	case arg.Kind() == reflect.Struct && arg.FieldByName("Source").Kind() == reflect.String:
		arg.FieldByName("Source").SetString(source)
	default:
		return fmt.Errorf("RetryQuarantined takes a %s: the simulation does not know how to choose a source with it", arg.Type())
	}
	out := m.Call([]reflect.Value{reflect.ValueOf(ctx), arg})
	if err, _ := out[len(out)-1].Interface().(error); err != nil {
		return err
	}
	return nil
}
