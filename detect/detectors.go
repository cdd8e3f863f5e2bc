package detect

import (
	"time"

	"github.com/reposentry/reposentry"
	"github.com/reposentry/reposentry/engine"
)

// Rule ids of the built-in detections.
const (
	RuleBulkRead          = "bulk_read"
	RuleNewCredentialBulk = "new_credential_bulk_read"
	RuleExfilPathOpened   = "exfil_path_opened"
	RuleFirstSeenLocation = "first_seen_location"
	RulePrivilegedRead    = "privileged_read"
	// RuleDisabledAccountActive: a read, push or credential creation by an
	// identity whose directory account is disabled.
	RuleDisabledAccountActive = "disabled_account_active"
	// RulePlatformAdminBulkRead: a bulk read by an organization or
	// enterprise owner, one severity above the ordinary bulk_read.
	RulePlatformAdminBulkRead = "platform_admin_bulk_read"
)

// New returns every built-in detection, sharing one state (see the package
// documentation). Zero settings in cfg take their defaults.
func New(cfg Config) []engine.Detector {
	c := newCore(cfg)
	return []engine.Detector{
		&detector{c: c, name: RuleBulkRead, emit: c.emitBulk},
		&detector{c: c, name: RuleNewCredentialBulk, emit: c.emitNewCred},
		&detector{c: c, name: RuleExfilPathOpened, emit: c.emitExfil},
		&detector{c: c, name: RuleFirstSeenLocation, emit: c.emitLocation},
		&detector{c: c, name: RulePrivilegedRead, emit: c.emitPrivileged},
		&detector{c: c, name: RuleDisabledAccountActive, emit: c.emitDisabled},
		&detector{c: c, name: RulePlatformAdminBulkRead, emit: c.emitAdminBulk},
	}
}

// detector is one rule's view of the shared analysis.
type detector struct {
	c    *core
	name string
	// emit turns the event's facts into this rule's signals, if any.
	emit func(ev *reposentry.Event, f *facts, out func(reposentry.Signal))
}

// Name implements engine.Detector.
func (d *detector) Name() string { return d.name }

// Process implements engine.Detector.
func (d *detector) Process(ev *reposentry.Event, out func(reposentry.Signal)) {
	f := d.c.observe(ev)
	if f.a != nil {
		d.emit(ev, f, out)
	}
}

// Advance implements engine.Detector. Signals are raised as events arrive, so
// advancing only forgets expired state.
func (d *detector) Advance(now time.Time, _ func(reposentry.Signal)) { d.c.advance(now) }
