package sigma

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
	"unsafe"

	"github.com/reposentry/reposentry"
	"github.com/valyala/fastjson"
)

// fieldID names a normalized Event field; fieldRaw means the field is read
// from the raw JSON record by dotted path.
type fieldID uint8

const (
	fieldRaw fieldID = iota
	fieldAction
	fieldCategory
	fieldOutcome
	fieldPlatform
	fieldActor
	fieldActorID
	fieldActorType
	fieldActorKey
	fieldIdentityHint
	fieldCredKind
	fieldCredHash
	fieldCredID
	fieldCredScopes
	fieldSourceIP
	fieldCountry
	fieldCity
	fieldASN
	fieldASOrg
	fieldUserAgent
	fieldOrg
	fieldEnterprise
	fieldRepo
	fieldVisibility
	fieldProtocol
	fieldTargetUser
	fieldDetail
	fieldIdentity
	fieldPrivileged
	fieldDisabled
	fieldDepartment
	numFields
)

// fieldMap is the Sigma field name → normalized Event field table (see the
// package documentation). Names not listed are looked up in the raw record.
var fieldMap = map[string]fieldID{
	"action":                      fieldAction,
	"category":                    fieldCategory,
	"outcome":                     fieldOutcome,
	"platform":                    fieldPlatform,
	"actor":                       fieldActor,
	"actor_id":                    fieldActorID,
	"actor_type":                  fieldActorType,
	"actor_key":                   fieldActorKey,
	"identity_hint":               fieldIdentityHint,
	"credential_kind":             fieldCredKind,
	"programmatic_access_type":    fieldCredKind,
	"hashed_token":                fieldCredHash,
	"token_id":                    fieldCredID,
	"token_scopes":                fieldCredScopes,
	"actor_ip":                    fieldSourceIP,
	"source_ip":                   fieldSourceIP,
	"country":                     fieldCountry,
	"actor_location.country_code": fieldCountry,
	"city":                        fieldCity,
	"asn":                         fieldASN,
	"as_org":                      fieldASOrg,
	"user_agent":                  fieldUserAgent,
	"org":                         fieldOrg,
	"business":                    fieldEnterprise,
	"enterprise":                  fieldEnterprise,
	"repo":                        fieldRepo,
	"repository":                  fieldRepo,
	"visibility":                  fieldVisibility,
	"protocol":                    fieldProtocol,
	"user":                        fieldTargetUser,
	"detail":                      fieldDetail,
	"identity":                    fieldIdentity,
	"privileged":                  fieldPrivileged,
	"disabled":                    fieldDisabled,
	"department":                  fieldDepartment,
}

// field is a compiled field reference: resolved once at load time.
type field struct {
	name string
	id   fieldID
	path []string // raw lookup path, for fieldRaw
}

func newField(name string) field {
	if id, ok := fieldMap[name]; ok {
		return field{name: name, id: id}
	}
	return field{name: name, path: strings.Split(name, ".")}
}

// vkind is the shape of a field's value in one event.
type vkind uint8

const (
	vMissing vkind = iota
	vNull          // JSON null
	vEmpty         // a normalized field with no value: matches both null and ''
	vString
	vNumber
	vBool
	vArray
	vObject
)

// fval is one field's value in one event. s may borrow the evaluation
// context's buffers or the parsed record (borrowed), so it is only valid until
// the next lookup in the same slot.
type fval struct {
	kind     vkind
	borrowed bool
	fid      fieldID // the normalized field it came from; fieldRaw otherwise
	s        string
	jv       *fastjson.Value // the array, for vArray
}

// present reports whether the field exists in the event (null counts).
func (v *fval) present() bool { return v.kind != vMissing && v.kind != vEmpty }

// evalCtx is the per-event evaluation state. One lives in each Detector and
// is reused for every event, which is what keeps matching allocation-free.
type evalCtx struct {
	gen    uint32 // event generation, for memo
	memo   [numFields]memo
	arena  []byte // per-event text (addresses, folded values), reset per event
	ev     *reposentry.Event
	p      fastjson.Parser
	root   *fastjson.Value
	parsed bool
	txt    [2][]byte // per-slot text buffers (numbers, addresses)
	fold   [2][]byte // per-slot case-folded copies
	cur    fval      // the value under test
	elem   fval      // array element under test
}

// memo caches, per event, what is costly to derive from a normalized field:
// its text (addresses) and its folded text. Entries are valid while gen
// equals the context's.
type memo struct {
	gen    uint32
	text   string
	lowGen uint32
	low    string
}

func (c *evalCtx) reset(ev *reposentry.Event) {
	c.ev, c.root, c.parsed = ev, nil, false
	c.gen++
	if c.gen == 0 { // wrapped: old entries could look current
		c.memo = [numFields]memo{}
		c.gen = 1
	}
	c.arena = c.arena[:0]
}

// keep copies b's text into the event's arena. Strings from the arena stay
// intact for the rest of the event: appends that outgrow it move on to a new
// array and leave the old one alone.
func (c *evalCtx) keep(b []byte) string {
	start := len(c.arena)
	c.arena = append(c.arena, b...)
	return bstr(c.arena[start:len(c.arena):len(c.arena)])
}

// lower returns v's text folded to lower case, once per field per event for
// normalized fields.
func (c *evalCtx) lower(v *fval) string {
	if v.fid == fieldRaw {
		return c.folded(v.s, 0)
	}
	m := &c.memo[v.fid]
	if m.lowGen != c.gen {
		m.low, m.lowGen = v.s, c.gen
		if needsFold(v.s) {
			start := len(c.arena)
			c.arena = foldAppend(c.arena, v.s)
			m.low = bstr(c.arena[start:len(c.arena):len(c.arena)])
		}
	}
	return m.low
}

func needsFold(s string) bool {
	for i := 0; i < len(s); i++ {
		if b := s[i]; b >= 0x80 || ('A' <= b && b <= 'Z') {
			return true
		}
	}
	return false
}

// raw returns the parsed record, parsing it on first use.
func (c *evalCtx) raw() *fastjson.Value {
	if !c.parsed {
		c.parsed = true
		c.root = nil
		if len(c.ev.Raw) > 0 {
			if v, err := c.p.ParseBytes(c.ev.Raw); err == nil {
				c.root = v
			}
		}
	}
	return c.root
}

func strVal(id fieldID, s string) fval {
	if s == "" {
		return fval{kind: vEmpty, fid: id}
	}
	return fval{kind: vString, s: s, fid: id}
}

// bstr views b as a string without copying; the result borrows b.
func bstr(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// get returns f's value in the current event, using buffer slot.
func (c *evalCtx) get(f *field, slot int) fval {
	ev := c.ev
	switch f.id {
	case fieldRaw:
		return c.fromJSON(c.lookup(f), slot)
	case fieldAction:
		return strVal(f.id, ev.Action)
	case fieldCategory:
		return strVal(f.id, ev.Category.String())
	case fieldOutcome:
		if ev.Outcome == reposentry.OutcomeUnknown {
			return fval{kind: vEmpty, fid: f.id}
		}
		return strVal(f.id, ev.Outcome.String())
	case fieldPlatform:
		return strVal(f.id, ev.Platform.String())
	case fieldActor:
		return strVal(f.id, ev.Actor.Login)
	case fieldActorID:
		return strVal(f.id, ev.Actor.ID)
	case fieldActorType:
		if ev.Actor.Type == reposentry.ActorUnknown {
			return fval{kind: vEmpty, fid: f.id}
		}
		return strVal(f.id, ev.Actor.Type.String())
	case fieldActorKey:
		return strVal(f.id, ev.ActorKey())
	case fieldIdentityHint:
		return strVal(f.id, ev.IdentityHint)
	case fieldCredKind:
		if ev.Credential.Kind == reposentry.CredentialUnknown {
			return fval{kind: vEmpty, fid: f.id}
		}
		return strVal(f.id, ev.Credential.Kind.String())
	case fieldCredHash:
		return strVal(f.id, ev.Credential.Hash)
	case fieldCredID:
		return strVal(f.id, ev.Credential.ID)
	case fieldCredScopes:
		return strVal(f.id, ev.Credential.Scopes)
	case fieldSourceIP:
		if !ev.SourceIP.IsValid() {
			return fval{kind: vEmpty, fid: f.id}
		}
		m := &c.memo[fieldSourceIP]
		if m.gen != c.gen {
			c.txt[slot] = ev.SourceIP.AppendTo(c.txt[slot][:0])
			m.text, m.gen = c.keep(c.txt[slot]), c.gen
		}
		return fval{kind: vString, borrowed: true, s: m.text, fid: fieldSourceIP}
	case fieldCountry:
		return strVal(f.id, ev.Geo.Country)
	case fieldCity:
		return strVal(f.id, ev.Geo.City)
	case fieldASN:
		if ev.Geo.ASN == 0 {
			return fval{kind: vEmpty, fid: f.id}
		}
		m := &c.memo[fieldASN]
		if m.gen != c.gen {
			c.txt[slot] = strconv.AppendUint(c.txt[slot][:0], uint64(ev.Geo.ASN), 10)
			m.text, m.gen = c.keep(c.txt[slot]), c.gen
		}
		return fval{kind: vNumber, borrowed: true, s: m.text, fid: fieldASN}
	case fieldASOrg:
		return strVal(f.id, ev.Geo.ASOrg)
	case fieldUserAgent:
		return strVal(f.id, ev.UserAgent)
	case fieldOrg:
		return strVal(f.id, ev.Org)
	case fieldEnterprise:
		return strVal(f.id, ev.Enterprise)
	case fieldRepo:
		return strVal(f.id, ev.Repo)
	case fieldVisibility:
		if ev.Visibility == reposentry.VisibilityUnknown {
			return fval{kind: vEmpty, fid: f.id}
		}
		return strVal(f.id, ev.Visibility.String())
	case fieldProtocol:
		if ev.Protocol == reposentry.ProtocolUnknown {
			return fval{kind: vEmpty, fid: f.id}
		}
		return strVal(f.id, ev.Protocol.String())
	case fieldTargetUser:
		return strVal(f.id, ev.TargetUser)
	case fieldDetail:
		return strVal(f.id, ev.Detail)
	case fieldIdentity:
		return strVal(f.id, ev.Identity)
	case fieldPrivileged:
		return boolVal(f.id, ev.Privileged)
	case fieldDisabled:
		return boolVal(f.id, ev.Disabled)
	case fieldDepartment:
		return strVal(f.id, ev.Department)
	}
	return fval{}
}

// boolVal is a normalized boolean field's value.
func boolVal(id fieldID, b bool) fval {
	if b {
		return fval{kind: vBool, s: "true", fid: id}
	}
	return fval{kind: vBool, s: "false", fid: id}
}

// lookup finds a dotted path in the raw record: first the whole name as one
// key (GitHub has keys such as "@timestamp"), then nested objects.
func (c *evalCtx) lookup(f *field) *fastjson.Value {
	root := c.raw()
	if root == nil {
		return nil
	}
	if len(f.path) > 1 {
		if v := root.Get(f.name); v != nil {
			return v
		}
	}
	return root.Get(f.path...)
}

// fromJSON turns a raw JSON value into an fval.
func (c *evalCtx) fromJSON(v *fastjson.Value, slot int) fval {
	if v == nil {
		return fval{}
	}
	switch v.Type() {
	case fastjson.TypeNull:
		return fval{kind: vNull}
	case fastjson.TypeString:
		b, _ := v.StringBytes()
		return fval{kind: vString, borrowed: true, s: bstr(b)}
	case fastjson.TypeNumber:
		c.txt[slot] = v.MarshalTo(c.txt[slot][:0])
		return fval{kind: vNumber, borrowed: true, s: bstr(c.txt[slot])}
	case fastjson.TypeTrue:
		return fval{kind: vBool, s: "true"}
	case fastjson.TypeFalse:
		return fval{kind: vBool, s: "false"}
	case fastjson.TypeArray:
		return fval{kind: vArray, jv: v}
	}
	return fval{kind: vObject}
}

// folded returns v's text lower-cased, copying into the slot's buffer only
// when the text has upper-case or non-ASCII bytes.
func (c *evalCtx) folded(s string, slot int) string {
	if needsFold(s) {
		c.fold[slot] = foldAppend(c.fold[slot][:0], s)
		return bstr(c.fold[slot])
	}
	return s
}

// foldAppend appends the simple lower-case form of s to dst.
func foldAppend(dst []byte, s string) []byte {
	for _, r := range s {
		if r < 0x80 {
			if 'A' <= r && r <= 'Z' {
				r += 'a' - 'A'
			}
			dst = append(dst, byte(r))
			continue
		}
		dst = utf8.AppendRune(dst, unicode.ToLower(r))
	}
	return dst
}

// fold returns the lower-case form of a pattern (load time only).
func fold(s string) string { return string(foldAppend(nil, s)) }
