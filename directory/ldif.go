package directory

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// maxLDIFLine bounds one physical line and one folded attribute value, so a
// corrupt file (no newlines, endless continuation) cannot exhaust memory.
const maxLDIFLine = 4 << 20

// Load reads a snapshot file, LDIF or JSON by its extension (".json" is
// JSON, anything else LDIF), and resolves privilege under p.
func Load(path string, p Policy) (*Snapshot, error) {
	var s *Snapshot
	var err error
	if strings.EqualFold(filepath.Ext(path), ".json") {
		s, err = LoadJSON(path)
	} else {
		s, err = LoadLDIF(path)
	}
	if err != nil {
		return nil, err
	}
	return s.WithPolicy(p), nil
}

// LoadLDIF reads an LDIF export (RFC 2849) of the directory, such as
// ldifde's or ldapsearch's output, with the default policy.
func LoadLDIF(path string) (*Snapshot, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("directory: %w", err)
	}
	defer f.Close()
	s, err := ParseLDIF(f, path)
	if err != nil {
		return nil, err
	}
	if st, err := f.Stat(); err == nil {
		s.Fetched = st.ModTime().UTC()
	}
	return s, nil
}

// ParseLDIF reads LDIF content records from r; name is used in errors and
// as the snapshot's Source. Entries that are neither users nor groups (the
// domain, OUs, computers) are skipped. Change records other than
// "changetype: add" are rejected, since a snapshot is not a change log.
func ParseLDIF(r io.Reader, name string) (*Snapshot, error) {
	p := ldifParser{name: name, br: bufio.NewReaderSize(r, 64<<10)}
	var users []*User
	var groups []*Group
	for {
		rec, err := p.record()
		if err != nil {
			return nil, err
		}
		if rec == nil {
			break
		}
		u, g, err := p.entry(rec)
		if err != nil {
			return nil, err
		}
		if u != nil {
			users = append(users, u)
		}
		if g != nil {
			groups = append(groups, g)
		}
	}
	s := New(users, groups, Policy{})
	s.Source = name
	return s, nil
}

type attrVal struct {
	attr  string // lower-cased, options stripped
	value string
	line  int
}

type ldifParser struct {
	name string
	br   *bufio.Reader
	line int // physical lines read
	// started is set once the first attribute line is read: only that one
	// may be "version: 1", and it may be followed by the first record with
	// no blank line between them (RFC 2849 asks for one SEP only).
	started bool
}

func (p *ldifParser) errorf(line int, format string, args ...any) error {
	return fmt.Errorf("directory: %s:%d: %s", p.name, line, fmt.Sprintf(format, args...))
}

// physical returns the next line without its line ending.
func (p *ldifParser) physical() ([]byte, bool, error) {
	var line []byte
	for {
		chunk, err := p.br.ReadSlice('\n')
		line = append(line, chunk...)
		if len(line) > maxLDIFLine {
			return nil, false, p.errorf(p.line+1, "line longer than %d bytes", maxLDIFLine)
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err == io.EOF && len(line) == 0 {
			return nil, false, nil
		}
		if err != nil && err != io.EOF {
			return nil, false, fmt.Errorf("directory: %s: %w", p.name, err)
		}
		break
	}
	p.line++
	line = bytes.TrimSuffix(line, []byte("\n"))
	line = bytes.TrimSuffix(line, []byte("\r"))
	return line, true, nil
}

// record returns the next record's attribute lines, unfolded and decoded,
// or nil at the end of input.
func (p *ldifParser) record() ([]attrVal, error) {
	var rec []attrVal
	var cur []byte // the logical line being unfolded
	curLine := 0
	comment := false
	flush := func() error {
		if cur == nil {
			return nil
		}
		av, err := p.attrLine(cur, curLine)
		cur = nil
		if err != nil {
			return err
		}
		if !p.started {
			p.started = true
			if av.attr == "version" {
				if av.value != "1" {
					return p.errorf(av.line, "unsupported LDIF version %q", av.value)
				}
				return nil
			}
		}
		rec = append(rec, av)
		return nil
	}
	for {
		line, ok, err := p.physical()
		if err != nil {
			return nil, err
		}
		// A line of spaces is a blank line with trailing white space, as
		// hand-edited files have: it cannot be a continuation, since values
		// ending in spaces must be base64 (RFC 2849).
		if ok && len(bytes.TrimLeft(line, " ")) == 0 {
			line = line[:0]
		}
		if !ok || len(line) == 0 {
			if err := flush(); err != nil {
				return nil, err
			}
			if len(rec) > 0 || !ok {
				return rec, nil
			}
			comment = false
			continue
		}
		switch {
		case line[0] == ' ':
			if comment {
				continue
			}
			if cur == nil {
				return nil, p.errorf(p.line, "continuation line with no line to continue")
			}
			if len(cur)+len(line) > maxLDIFLine {
				return nil, p.errorf(curLine, "folded value longer than %d bytes", maxLDIFLine)
			}
			cur = append(cur, line[1:]...)
		case line[0] == '#':
			if err := flush(); err != nil {
				return nil, err
			}
			comment = true
		default:
			if err := flush(); err != nil {
				return nil, err
			}
			comment = false
			cur = append([]byte(nil), line...)
			curLine = p.line
		}
	}
}

// attrLine splits "attr: value", "attr:: base64" and rejects "attr:< url".
func (p *ldifParser) attrLine(b []byte, line int) (attrVal, error) {
	i := bytes.IndexByte(b, ':')
	if i <= 0 {
		return attrVal{}, p.errorf(line, "expected \"attribute: value\", got %q", truncate(b))
	}
	desc := string(b[:i])
	for _, c := range []byte(desc) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == ';' || c == '.') {
			return attrVal{}, p.errorf(line, "invalid attribute description %q", truncate(b[:i]))
		}
	}
	attr, _, _ := strings.Cut(strings.ToLower(desc), ";") // options (";binary", ";lang-en") do not matter here
	rest := b[i+1:]
	switch {
	case len(rest) > 0 && rest[0] == ':':
		enc := bytes.TrimLeft(rest[1:], " ")
		v, err := base64.StdEncoding.DecodeString(string(enc))
		if err != nil {
			v, err = base64.RawStdEncoding.DecodeString(string(enc))
		}
		if err != nil {
			return attrVal{}, p.errorf(line, "attribute %s: invalid base64 value: %v", desc, err)
		}
		return attrVal{attr: attr, value: string(v), line: line}, nil
	case len(rest) > 0 && rest[0] == '<':
		return attrVal{}, p.errorf(line, "attribute %s: URL values are not supported", desc)
	}
	return attrVal{attr: attr, value: string(bytes.TrimLeft(rest, " ")), line: line}, nil
}

func truncate(b []byte) string {
	if len(b) > 64 {
		return string(b[:64]) + "…"
	}
	return string(b)
}

// entry turns a record into a user or a group (or neither).
func (p *ldifParser) entry(rec []attrVal) (*User, *Group, error) {
	if rec[0].attr != "dn" {
		return nil, nil, p.errorf(rec[0].line, "record starts with %q, not dn", rec[0].attr)
	}
	dn := rec[0].value
	var isUser, isGroup, isComputer bool
	for _, av := range rec[1:] {
		switch av.attr {
		case "dn":
			return nil, nil, p.errorf(av.line, "second dn in one record (missing blank line?)")
		case "changetype":
			if !strings.EqualFold(av.value, "add") {
				return nil, nil, p.errorf(av.line, "changetype %q is not supported: a snapshot holds entries, not changes", av.value)
			}
		case "objectclass":
			switch strings.ToLower(av.value) {
			case "user", "person", "organizationalperson", "inetorgperson":
				isUser = true
			case "group", "groupofnames", "groupofuniquenames":
				isGroup = true
			case "computer":
				isComputer = true
			}
		}
	}
	if (isGroup || isUser && !isComputer) && strings.TrimSpace(dn) == "" {
		return nil, nil, p.errorf(rec[0].line, "user or group with an empty dn")
	}
	switch {
	case isGroup:
		g := &Group{DN: dn}
		for _, av := range rec[1:] {
			switch av.attr {
			case "cn":
				g.CN = av.value
			case "objectsid":
				sid, ok := ParseSID([]byte(av.value))
				if !ok {
					return nil, nil, p.errorf(av.line, "objectSid of %q is not a SID", dn)
				}
				g.ObjectSID = sid
			case "member", "uniquemember":
				g.Member = append(g.Member, av.value)
			case "memberof":
				g.MemberOf = append(g.MemberOf, av.value)
			}
		}
		return nil, g, nil
	case isUser && !isComputer:
		u := &User{DN: dn}
		for _, av := range rec[1:] {
			var err error
			switch av.attr {
			case "samaccountname":
				u.SAMAccountName = av.value
			case "userprincipalname":
				u.UserPrincipalName = av.value
			case "mail":
				if u.Mail == "" {
					u.Mail = av.value
				}
			case "displayname":
				u.DisplayName = av.value
			case "department":
				u.Department = av.value
			case "memberof":
				u.MemberOf = append(u.MemberOf, av.value)
			case "primarygroupid":
				u.PrimaryGroupID, err = parseUint32(av.value)
			case "admincount":
				var n uint32
				n, err = parseUint32(av.value)
				u.AdminCount = n == 1
			case "useraccountcontrol":
				u.UserAccountControl, err = parseUint32(av.value)
			}
			if err != nil {
				return nil, nil, p.errorf(av.line, "%s of %q: %v", av.attr, dn, err)
			}
		}
		return u, nil, nil
	}
	return nil, nil, nil
}

// parseUint32 reads an AD integer attribute; AD writes 32-bit flags as
// signed decimals, so negative values are taken as their two's complement.
func parseUint32(v string) (uint32, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || n < -1<<31 || n > 1<<32-1 {
		return 0, fmt.Errorf("%q is not a 32-bit integer", v)
	}
	return uint32(n), nil
}

// jsonSnapshot is the JSON snapshot file's shape.
type jsonSnapshot struct {
	Users  []*User  `json:"users"`
	Groups []*Group `json:"groups"`
	Source string   `json:"source,omitempty"`
	// Fetched is RFC 3339.
	Fetched string `json:"fetched,omitempty"`
}

// LoadJSON reads a JSON snapshot ({"users": [...], "groups": [...]}, as
// WriteJSON writes it) with the default policy.
func LoadJSON(path string) (*Snapshot, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("directory: %w", err)
	}
	s, err := ParseJSON(b, path)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// ParseJSON reads a JSON snapshot from b; name is used in errors.
func ParseJSON(b []byte, name string) (*Snapshot, error) {
	var js jsonSnapshot
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&js); err != nil {
		line := 1 + bytes.Count(b[:min(int(dec.InputOffset()), len(b))], []byte("\n"))
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			line = 1 + bytes.Count(b[:min(int(se.Offset), len(b))], []byte("\n"))
		case errors.As(err, &te):
			line = 1 + bytes.Count(b[:min(int(te.Offset), len(b))], []byte("\n"))
		}
		return nil, fmt.Errorf("directory: %s:%d: %w", name, line, err)
	}
	for i, u := range js.Users {
		if u == nil || u.DN == "" {
			return nil, fmt.Errorf("directory: %s: users[%d] has no dn", name, i)
		}
	}
	for i, g := range js.Groups {
		if g == nil || g.DN == "" {
			return nil, fmt.Errorf("directory: %s: groups[%d] has no dn", name, i)
		}
	}
	s := New(js.Users, js.Groups, Policy{})
	s.Source = js.Source
	if s.Source == "" {
		s.Source = name
	}
	if js.Fetched != "" {
		if err := s.Fetched.UnmarshalText([]byte(js.Fetched)); err != nil {
			return nil, fmt.Errorf("directory: %s: fetched %q: %w", name, js.Fetched, err)
		}
	}
	return s, nil
}

// WriteJSON writes s as a JSON snapshot that LoadJSON reads back, so a
// directory fetched over LDAP can be saved and used offline.
func (s *Snapshot) WriteJSON(w io.Writer) error {
	js := jsonSnapshot{Users: s.Users, Groups: s.Groups, Source: s.Source}
	if js.Users == nil {
		js.Users = []*User{}
	}
	if js.Groups == nil {
		js.Groups = []*Group{}
	}
	if !s.Fetched.IsZero() {
		js.Fetched = s.Fetched.UTC().Format("2006-01-02T15:04:05Z07:00")
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(js); err != nil {
		return fmt.Errorf("directory: writing snapshot of %s: %w", s.Source, err)
	}
	return nil
}
