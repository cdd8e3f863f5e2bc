// Package simulate writes the logs of a realistic organisation — GitHub audit
// events, Okta System Log, Entra ID sign-ins, a directory snapshot — with
// attack scenarios and their benign look-alikes injected, plus the ground
// truth (labels.jsonl, benign.jsonl) that the evaluate package scores
// alerts against. Output is deterministic for a seed.
//
// Layout under Config.Out:
//
//	github/YYYY/MM/DD/HH/<uuid>.json.gz  audit-log stream: gzip NDJSON, web and Git events
//	github-api/page-NNN.json            the first day again as REST API pages (≤100, newest first)
//	okta/YYYY-MM-DD.ndjson              Okta System Log
//	entra/YYYY-MM-DD.json               Entra ID sign-ins of the acquisition, {"records":[...]}
//	directory/directory.ldif            AD-shaped snapshot (Domain Admins nests IT Admins)
//	identities.csv                      github_login,user_principal_name
//	labels.jsonl, benign.jsonl          ground truth: attacks, and look-alikes that must not alert
//	meta.json                           identities, days, seed and counts (Meta)
//
// The API pages repeat day one's events with the same _document_id, as a
// poller overlapping a stream would; hunting both folders exercises
// de-duplication. Addresses come from 198.18.0.0/15 (benchmarking range) so
// no real GeoIP database disagrees with the countries the records carry.
package simulate

import (
	"bufio"
	"cmp"
	"compress/gzip"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"
)

// Config says what to simulate.
type Config struct {
	Users int   // identities, people and bots together (at least 40)
	Days  int   // simulated days (at least 4)
	Seed  int64 // same seed, same bytes
	// Start is the first simulated day (UTC midnight); zero means
	// DefaultStart.
	Start time.Time
	Out   string // output directory, created if missing
}

// DefaultStart is the first simulated day when Config.Start is zero: a Monday.
var DefaultStart = time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)

// Result counts what Run wrote.
type Result struct {
	Identities   int   `json:"identities"`
	GitHubEvents int64 `json:"github_events"`     // streamed audit events (github/)
	GitHubAPI    int64 `json:"github_api_events"` // the API day's events again, as REST pages (github-api/)
	OktaEvents   int64 `json:"okta_events"`
	EntraEvents  int64 `json:"entra_events"`
	Files        int   `json:"files"`  // files written before meta.json
	Labels       int   `json:"labels"` // attack scenario instances (labels.jsonl)
	Benign       int   `json:"benign"` // benign look-alike instances (benign.jsonl)
}

const (
	dayMs       = 24 * 3600 * 1000
	maxFileEvts = 5000 // events per streamed file before the hour's next file
	apiPageSize = 100
	apiDay      = 0 // the day also written as REST API pages
)

type dayBuf struct {
	day int
	gh  []ghEv
	ok  []oktaEv
}

type sim struct {
	cfg      Config
	r        *rand.Rand
	side     *rand.Rand // scenarios added after the first six draw from it (see plan)
	o        *org
	startMs  int64
	seq      uint64
	ring     [3]dayBuf
	holiday  int
	release  []bool
	botRate  [24]float64
	planning bool
	plannedG [][]ghEv
	plannedO [][]oktaEv
	cur      *label
	labels   []*label
	benign   []*label
	res      Result
	enc      []byte
	bw       *bufio.Writer
	gz       *gzip.Writer
}

// Run simulates cfg and writes everything under cfg.Out.
func Run(cfg Config) (Result, error) {
	if cfg.Users < 40 {
		return Result{}, fmt.Errorf("simulate: users %d: need at least 40 to staff every role", cfg.Users)
	}
	if cfg.Days < 4 {
		return Result{}, fmt.Errorf("simulate: days %d: need at least 4 for baseline, scenarios and look-alikes", cfg.Days)
	}
	if cfg.Out == "" {
		return Result{}, fmt.Errorf("simulate: no output directory")
	}
	if cfg.Start.IsZero() {
		cfg.Start = DefaultStart
	}
	cfg.Start = cfg.Start.UTC().Truncate(24 * time.Hour)
	s := &sim{cfg: cfg, r: rand.New(rand.NewPCG(uint64(cfg.Seed), 0x9e3779b97f4a7c15)),
		side: rand.New(rand.NewPCG(uint64(cfg.Seed), 0x6a09e667f3bcc909)), startMs: cfg.Start.UnixMilli()}
	s.o = buildOrg(s.r, cfg.Users, cfg.Days)
	s.res.Identities = len(s.o.people)
	s.calendar()
	s.plannedG = make([][]ghEv, cfg.Days)
	s.plannedO = make([][]oktaEv, cfg.Days)
	s.planning = true
	s.plan()
	s.planning = false
	s.cur = nil
	s.bw = bufio.NewWriterSize(nil, 256<<10)
	s.gz, _ = gzip.NewWriterLevel(nil, gzip.BestSpeed)
	if err := s.run(); err != nil {
		return s.res, err
	}
	if err := s.writeSideFiles(); err != nil {
		return s.res, err
	}
	return s.res, nil
}

// calendar picks the holiday, the release days and the bots' hourly load.
func (s *sim) calendar() {
	s.holiday = -1
	if s.cfg.Days >= 7 {
		for d := s.cfg.Days * 45 / 100; d < s.cfg.Days; d++ {
			if wd := s.weekday(d); d > 0 && wd != time.Saturday && wd != time.Sunday {
				s.holiday = d
				break
			}
		}
	}
	s.release = make([]bool, s.cfg.Days)
	for d := range s.release {
		s.release[d] = s.weekday(d) == time.Thursday && d != s.holiday
	}
	// Bots build what people commit: load follows how many people are at
	// work in each UTC hour, peaking at about one clone or fetch per four
	// people per hour.
	var work [24]float64
	people := 0
	for _, p := range s.o.people {
		if p.role == roleCI || p.role == roleApp {
			continue
		}
		people++
		off := places[p.office].off
		for m := p.startMin; m < p.startMin+p.lenMin; m += 60 {
			h := ((m-off)/60 + 48) % 24
			work[h]++
		}
	}
	peak := slices.Max(work[:])
	for h := range work {
		s.botRate[h] = 2 + work[h]/peak*float64(people)/4
	}
}

func (s *sim) weekday(d int) time.Weekday { return s.cfg.Start.AddDate(0, 0, d).Weekday() }

func (s *sim) workday(d int) bool {
	wd := s.weekday(d)
	return wd != time.Saturday && wd != time.Sunday && d != s.holiday
}

const idAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

func (s *sim) docID(id *[22]byte) {
	x, y := s.r.Uint64(), s.r.Uint64()
	for i := 0; i < 22; i++ {
		if i == 11 {
			x = y
		}
		id[i] = idAlphabet[x&63]
		x >>= 6
	}
}

// gh adds a GitHub event; while planning it goes to the scenario schedule
// and, when a label is open, into the label's event ids.
func (s *sim) gh(ms int64, act ghAction, p *person, repo int, ip string, pl int, ua string, tok *token) *ghEv {
	day := int((ms - s.startMs) / dayMs)
	if ms < s.startMs || day >= s.cfg.Days {
		return &ghEv{}
	}
	s.seq++
	e := ghEv{ms: ms, seq: s.seq, act: act, who: p, repo: int32(repo), ip: ip, place: pl, ua: ua, tok: tok}
	s.docID(&e.id)
	var list *[]ghEv
	if s.planning {
		list = &s.plannedG[day]
		if s.cur != nil {
			s.cur.EventIDs = append(s.cur.EventIDs, "github:"+string(e.id[:]))
			s.cur.extend(ms)
		}
	} else {
		list = &s.ring[day%3].gh
	}
	*list = append(*list, e)
	return &(*list)[len(*list)-1]
}

// okta adds an Okta (or, for the acquisition's users, Entra ID) event.
func (s *sim) okta(ms int64, typ oktaType, p, by *person, ip string, net int, result, reason, session string) {
	day := int((ms - s.startMs) / dayMs)
	if ms < s.startMs || day >= s.cfg.Days {
		return
	}
	s.seq++
	e := oktaEv{ms: ms, seq: s.seq, typ: typ, who: p, by: by, ip: ip, net: net, result: result, reason: reason,
		session: session, ua: p.webUA}
	appendUUID(e.uuid[:0], s.r)
	if s.planning {
		s.plannedO[day] = append(s.plannedO[day], e)
		if s.cur != nil {
			s.cur.EventIDs = append(s.cur.EventIDs, "okta:"+string(e.uuid[:]))
			s.cur.extend(ms)
		}
		return
	}
	s.ring[day%3].ok = append(s.ring[day%3].ok, e)
}

func (s *sim) run() error {
	for i := range s.ring {
		s.ring[i].day = -1
	}
	s.ring[0].day = 0
	for d := 0; d <= s.cfg.Days; d++ {
		if d+1 < s.cfg.Days {
			b := &s.ring[(d+1)%3]
			b.day, b.gh, b.ok = d+1, b.gh[:0], b.ok[:0]
		}
		if d < s.cfg.Days {
			for _, p := range s.o.people {
				s.personDay(p, d)
			}
		}
		if d > 0 {
			if err := s.flush(&s.ring[(d-1)%3]); err != nil {
				return err
			}
		}
	}
	return nil
}

func byTimeGH(a, b ghEv) int {
	if c := cmp.Compare(a.ms, b.ms); c != 0 {
		return c
	}
	return cmp.Compare(a.seq, b.seq)
}

func byTimeOkta(a, b oktaEv) int {
	if c := cmp.Compare(a.ms, b.ms); c != 0 {
		return c
	}
	return cmp.Compare(a.seq, b.seq)
}

// flush writes one complete UTC day: streamed GitHub files per hour, the
// Okta and Entra day files, and the API pages on the API day.
func (s *sim) flush(b *dayBuf) error {
	d := b.day
	b.gh = append(b.gh, s.plannedG[d]...)
	b.ok = append(b.ok, s.plannedO[d]...)
	s.plannedG[d], s.plannedO[d] = nil, nil
	slices.SortFunc(b.gh, byTimeGH)
	slices.SortFunc(b.ok, byTimeOkta)
	day := s.cfg.Start.AddDate(0, 0, d)
	for i := 0; i < len(b.gh); {
		hour := (b.gh[i].ms - s.startMs) / 3600000
		j := i
		for j < len(b.gh) && j-i < maxFileEvts && (b.gh[j].ms-s.startMs)/3600000 == hour {
			j++
		}
		t := time.UnixMilli(b.gh[i].ms).UTC()
		name := filepath.Join("github", t.Format("2006/01/02/15"), randUUID(s.r)+".json.gz")
		if err := s.writeFile(name, true, func() {
			for k := i; k < j; k++ {
				s.enc = s.appendGitHub(s.enc[:0], &b.gh[k])
				s.enc = append(s.enc, '\n')
				s.bw.Write(s.enc)
			}
		}); err != nil {
			return err
		}
		s.res.GitHubEvents += int64(j - i)
		i = j
	}
	if d == apiDay {
		if err := s.writeAPIPages(b.gh); err != nil {
			return err
		}
	}
	date := day.Format("2006-01-02")
	var nOkta, nEntra int64
	if err := s.writeFile(filepath.Join("okta", date+".ndjson"), false, func() {
		for k := range b.ok {
			if e := &b.ok[k]; e.who.entraID == "" || e.by != nil {
				s.enc = s.appendOkta(s.enc[:0], e)
				s.enc = append(s.enc, '\n')
				s.bw.Write(s.enc)
				nOkta++
			}
		}
	}); err != nil {
		return err
	}
	if err := s.writeFile(filepath.Join("entra", date+".json"), false, func() {
		s.bw.WriteString(`{"records":[`)
		for k := range b.ok {
			if e := &b.ok[k]; e.who.entraID != "" && e.by == nil {
				s.enc = s.enc[:0]
				if nEntra > 0 {
					s.enc = append(s.enc, ',')
				}
				s.enc = append(s.enc, '\n')
				s.enc = s.appendEntra(s.enc, e)
				s.bw.Write(s.enc)
				nEntra++
			}
		}
		s.bw.WriteString("\n]}\n")
	}); err != nil {
		return err
	}
	s.res.OktaEvents += nOkta
	s.res.EntraEvents += nEntra
	return nil
}

// writeAPIPages writes the day as the REST API returns it: newest first,
// JSON array pages of at most 100 events.
func (s *sim) writeAPIPages(evs []ghEv) error {
	page := 0
	for end := len(evs); end > 0; end -= apiPageSize {
		page++
		start := max(0, end-apiPageSize)
		if err := s.writeFile(filepath.Join("github-api", "page-"+pad3(page)+".json"), false, func() {
			s.bw.WriteString("[")
			for k := end - 1; k >= start; k-- {
				s.enc = s.enc[:0]
				if k != end-1 {
					s.enc = append(s.enc, ',')
				}
				s.enc = append(s.enc, '\n')
				s.enc = s.appendGitHub(s.enc, &evs[k])
				s.bw.Write(s.enc)
			}
			s.bw.WriteString("\n]\n")
		}); err != nil {
			return err
		}
		s.res.GitHubAPI += int64(end - start)
	}
	return nil
}

func pad3(n int) string {
	s := strconv.Itoa(n)
	for len(s) < 3 {
		s = "0" + s
	}
	return s
}

// writeFile creates name under the output directory and runs body with
// s.bw writing to it, through gzip when zip is set.
func (s *sim) writeFile(name string, zip bool, body func()) error {
	path := filepath.Join(s.cfg.Out, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("simulate: create directory for %s: %w", path, err)
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("simulate: create %s: %w", path, err)
	}
	if zip {
		s.gz.Reset(f)
		s.bw.Reset(s.gz)
	} else {
		s.bw.Reset(f)
	}
	body()
	err = s.bw.Flush()
	if zip && err == nil {
		err = s.gz.Close()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("simulate: write %s: %w", path, err)
	}
	s.res.Files++
	return nil
}
