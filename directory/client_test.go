package directory

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// The LDAP tests run against a real OpenLDAP slapd started by
// testdata/slapd.sh. They run whenever slapd is installed, and CI sets
// REPOSENTRY_SLAPD=1 so that a slapd that cannot start fails the build
// instead of passing silently. Without slapd they fail with install
// instructions: an LDAP client untested against a server is not done.

const slapdInstall = "install OpenLDAP: DEBIAN_FRONTEND=noninteractive apt-get install -y slapd ldap-utils " +
	"(with a /usr/sbin/policy-rc.d that exits 101 so the packaged service does not start)"

type slapdServer struct {
	url, rootDN, rootPW string
	ldapsURL, caFile    string // with TLS only
	dir                 string
	cmd                 *exec.Cmd
	exited              chan error // receives cmd.Wait's result
	out                 bytes.Buffer
	err                 error
}

// Two servers, started on first use and shared: a plain one, and one that
// offers StartTLS and ldaps with a certificate the test makes.
var (
	plainOnce, tlsOnce sync.Once
	plainSrv, tlsSrv   *slapdServer
)

func TestMain(m *testing.M) {
	code := m.Run()
	for _, s := range []*slapdServer{plainSrv, tlsSrv} {
		if s == nil {
			continue
		}
		if s.exited != nil {
			s.cmd.Process.Kill()
			select { // reap it, so no zombie outlives the tests
			case <-s.exited:
			case <-time.After(5 * time.Second):
			}
		}
		if s.dir != "" {
			os.RemoveAll(s.dir)
		}
	}
	os.Exit(code)
}

func findSlapd() (string, bool) {
	if p, err := exec.LookPath("slapd"); err == nil {
		return p, true
	}
	if _, err := os.Stat("/usr/sbin/slapd"); err == nil {
		return "/usr/sbin/slapd", true
	}
	return "", false
}

// slapd returns the shared plain test server.
func slapd(t *testing.T) *slapdServer {
	t.Helper()
	plainOnce.Do(func() { plainSrv = startSlapd(false) })
	if plainSrv.err != nil {
		t.Fatalf("slapd: %v", plainSrv.err)
	}
	return plainSrv
}

// slapdTLS returns the shared TLS-enabled test server.
func slapdTLS(t *testing.T) *slapdServer {
	t.Helper()
	tlsOnce.Do(func() { tlsSrv = startSlapd(true) })
	if tlsSrv.err != nil {
		t.Fatalf("slapd with TLS: %v", tlsSrv.err)
	}
	return tlsSrv
}

func startSlapd(withTLS bool) *slapdServer {
	s := &slapdServer{rootDN: "cn=admin,dc=corp,dc=example"}
	bin, ok := findSlapd()
	if !ok {
		s.err = fmt.Errorf("slapd is not installed (REPOSENTRY_SLAPD=%q); %s", os.Getenv("REPOSENTRY_SLAPD"), slapdInstall)
		return s
	}
	port, err := freePort()
	if err != nil {
		s.err = err
		return s
	}
	dir, err := os.MkdirTemp("", "reposentry-slapd-test")
	if err != nil {
		s.err = err
		return s
	}
	s.dir = dir
	s.rootPW = "pw-" + randHex(12)
	s.url = fmt.Sprintf("ldap://127.0.0.1:%d", port)
	script, _ := filepath.Abs("testdata/slapd.sh")
	s.cmd = exec.Command("sh", script, fmt.Sprint(port), dir)
	s.cmd.Env = append(os.Environ(), "ROOTDN="+s.rootDN, "ROOTPW="+s.rootPW, "SLAPD="+bin)
	if withTLS {
		ldapsPort, err := freePort()
		if err != nil {
			s.err = err
			return s
		}
		cert, key, err := writeCert(dir)
		if err != nil {
			s.err = err
			return s
		}
		s.caFile = cert // self-signed: the certificate is its own CA
		s.ldapsURL = fmt.Sprintf("ldaps://127.0.0.1:%d", ldapsPort)
		s.cmd.Env = append(s.cmd.Env, "TLS_CERT="+cert, "TLS_KEY="+key, "LDAPS_PORT="+fmt.Sprint(ldapsPort))
	}
	s.cmd.Stdout, s.cmd.Stderr = &s.out, &s.out
	if err := s.cmd.Start(); err != nil {
		s.err = fmt.Errorf("starting %s: %w", script, err)
		return s
	}
	exited := make(chan error, 1)
	go func() { exited <- s.cmd.Wait() }()
	s.exited = exited
	deadline := time.After(15 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 200*time.Millisecond)
		if err == nil {
			c.Close()
			return s // the goroutine above reaps the process TestMain kills
		}
		select {
		case err := <-exited:
			s.err = fmt.Errorf("testdata/slapd.sh exited before listening (%v):\n%s", err, s.out.String())
			return s
		case <-deadline:
			s.cmd.Process.Kill()
			s.err = fmt.Errorf("testdata/slapd.sh did not listen on port %d within 15s:\n%s", port, s.out.String())
			return s
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// writeCert writes a self-signed certificate for 127.0.0.1 and its key.
func writeCert(dir string) (certFile, keyFile string, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "reposentry test slapd"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return "", "", err
	}
	pk, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", "", err
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		return "", "", err
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pk}), 0o600); err != nil {
		return "", "", err
	}
	return certFile, keyFile, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func (s *slapdServer) config(t *testing.T) Config {
	t.Helper()
	env := "REPOSENTRY_TEST_LDAP_PW"
	t.Setenv(env, s.rootPW)
	return Config{URL: s.url, BindDN: s.rootDN, PasswordEnv: env, BaseDN: "dc=corp,dc=example", Timeout: 5 * time.Second}
}

func mustClient(t *testing.T, cfg Config) *Client {
	t.Helper()
	c, err := NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestSlapdFetch(t *testing.T) {
	srv := slapd(t)
	pwFile := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pwFile, []byte(srv.rootPW+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		mutate func(*Config)
	}{
		{"password from env", func(*Config) {}},
		{"password from file", func(c *Config) { c.PasswordEnv, c.PasswordFile = "", pwFile }},
		{"anonymous", func(c *Config) { c.BindDN, c.PasswordEnv = "", "" }},
		{"pages of 2", func(c *Config) { c.PageSize = 2 }},
		// Tier0 is outside the group filter: the recursive expansion must
		// read it by DN to see carol and dave.
		{"group outside the filter", func(c *Config) { c.GroupFilter = "(&(objectClass=group)(!(cn=Tier0)))" }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := srv.config(t)
			tc.mutate(&cfg)
			s, err := mustClient(t, cfg).Fetch(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			// OpenLDAP ignores the in-chain rule, so the client must have
			// fallen back to expanding member values.
			if s.Expansion != ExpansionRecursive {
				t.Errorf("Expansion = %v, want recursive (OpenLDAP has no in-chain rule)", s.Expansion)
			}
			if s.Source != srv.url || s.Fetched.IsZero() {
				t.Errorf("Source %q Fetched %v", s.Source, s.Fetched)
			}
			checkSeedPrivilege(t, s)
			g, ok := s.GroupByDN("CN=Domain Admins,CN=Users,DC=corp,DC=example")
			if !ok || g.ObjectSID != "S-1-5-21-1111-2222-3333-512" {
				t.Errorf("Domain Admins = %+v %v, want its binary objectSid decoded", g, ok)
			}
			if _, ok := s.GroupByDN("cn=Tier0,ou=Groups,dc=corp,dc=example"); !ok {
				t.Errorf("Tier0 missing from the snapshot")
			}
		})
	}
}

func TestSlapdErrors(t *testing.T) {
	srv := slapd(t)
	closed, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		mutate func(*Config)
		want   []string
	}{
		{"wrong password", func(c *Config) { t.Setenv(c.PasswordEnv, "wrong-"+srv.rootPW) },
			[]string{"bind to " + srv.url, `as "cn=admin,dc=corp,dc=example"`, "Invalid Credentials"}},
		{"StartTLS on a server without TLS", func(c *Config) { c.StartTLS = true },
			[]string{"StartTLS with " + srv.url, "does the server offer TLS?"}},
		{"unreachable", func(c *Config) { c.URL = fmt.Sprintf("ldap://127.0.0.1:%d", closed) },
			[]string{fmt.Sprintf("connect to ldap://127.0.0.1:%d", closed), "connection refused"}},
		{"ldaps to a plain server", func(c *Config) { c.URL = strings.Replace(srv.url, "ldap:", "ldaps:", 1); c.InsecureSkipVerify = true },
			[]string{"connect to ldaps://"}},
		{"missing base", func(c *Config) { c.BaseDN = "dc=nowhere,dc=example" },
			[]string{"under \"dc=nowhere,dc=example\"", "No Such Object"}},
		{"password env unset", func(c *Config) { c.PasswordEnv = "REPOSENTRY_TEST_UNSET_PW" },
			[]string{"environment variable REPOSENTRY_TEST_UNSET_PW (the bind password) is not set"}},
		{"password file missing", func(c *Config) { c.PasswordEnv, c.PasswordFile = "", "/nonexistent/pw" },
			[]string{"bind password", "/nonexistent/pw"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := srv.config(t)
			tc.mutate(&cfg)
			_, err := mustClient(t, cfg).Fetch(context.Background())
			if err == nil {
				t.Fatal("Fetch succeeded")
			}
			t.Log(err)
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if strings.Contains(err.Error(), srv.rootPW) {
				t.Errorf("error %q contains the password", err)
			}
		})
	}
}

func TestSlapdTLS(t *testing.T) {
	srv := slapdTLS(t)
	tests := []struct {
		name    string
		mutate  func(*Config)
		wantErr string // "" means the fetch succeeds
	}{
		{"StartTLS trusting the CA file", func(c *Config) { c.StartTLS, c.CACertFile = true, srv.caFile }, ""},
		{"ldaps trusting the CA file", func(c *Config) { c.URL, c.CACertFile = srv.ldapsURL, srv.caFile }, ""},
		{"ldaps without verification", func(c *Config) { c.URL, c.InsecureSkipVerify = srv.ldapsURL, true }, ""},
		{"ldaps with an untrusted certificate", func(c *Config) { c.URL = srv.ldapsURL }, "certificate signed by unknown authority"},
		{"StartTLS with an untrusted certificate", func(c *Config) { c.StartTLS = true }, "StartTLS with " + srv.url},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := srv.config(t)
			tc.mutate(&cfg)
			s, err := mustClient(t, cfg).Fetch(context.Background())
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			checkSeedPrivilege(t, s)
		})
	}
}

func TestFetchCancelled(t *testing.T) {
	srv := slapd(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := mustClient(t, srv.config(t)).Fetch(ctx)
	if err == nil {
		t.Fatal("Fetch with a cancelled context succeeded")
	}
}

func TestNewClientValidates(t *testing.T) {
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	base := Config{URL: "ldap://dc1.corp.example", BaseDN: "dc=corp,dc=example"}
	tests := []struct {
		name   string
		mutate func(*Config)
		want   string
	}{
		{"ok", func(*Config) {}, ""},
		{"no host", func(c *Config) { c.URL = "ldap://" }, `ldap url "ldap://"`},
		{"bad scheme", func(c *Config) { c.URL = "http://dc1" }, `scheme "http" is not ldap or ldaps`},
		{"StartTLS over ldaps", func(c *Config) { c.URL, c.StartTLS = "ldaps://dc1", true }, "start_tls applies to ldap:// only"},
		{"no base", func(c *Config) { c.BaseDN = "" }, "base_dn is required"},
		{"two password sources", func(c *Config) { c.PasswordEnv, c.PasswordFile = "A", "/b" }, "not both"},
		{"bad filter", func(c *Config) { c.UserFilter = "(objectClass=user" }, `ldap filter "(objectClass=user"`},
		{"bad CA", func(c *Config) { c.CACertFile = ca }, "no PEM certificate"},
		{"missing CA", func(c *Config) { c.CACertFile = ca + ".missing" }, "ca_cert_file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := base
			tc.mutate(&cfg)
			c, err := NewClient(cfg)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				got := c.Config()
				if got.Timeout != 30*time.Second || got.PageSize != 1000 || got.RefreshInterval != time.Hour || got.UserFilter != DefaultUserFilter {
					t.Errorf("defaults not applied: %+v", got)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

// fakeFetcher returns the results it is given, in order, repeating the
// last.
type fakeFetcher struct {
	mu      sync.Mutex
	results []error
	calls   int
	snap    *Snapshot
}

func (f *fakeFetcher) Fetch(context.Context) (*Snapshot, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	err := f.results[min(f.calls, len(f.results)-1)]
	f.calls++
	if err != nil {
		return nil, err
	}
	return f.snap, nil
}

func TestCacheBackoff(t *testing.T) {
	good := New([]*User{{DN: "cn=a", SAMAccountName: "a"}}, nil, Policy{})
	initial := New(nil, nil, Policy{})
	fail := errors.New("server down")
	tests := []struct {
		name       string
		results    []error
		retries    int
		wantCalls  int
		wantSleeps []time.Duration
		wantErr    bool
	}{
		{"first try", []error{nil}, 3, 1, nil, false},
		{"third try", []error{fail, fail, nil}, 3, 3, []time.Duration{10 * time.Millisecond, 20 * time.Millisecond}, false},
		{"gives up, capped backoff", []error{fail}, 4, 5, []time.Duration{10 * time.Millisecond, 20 * time.Millisecond, 25 * time.Millisecond, 25 * time.Millisecond}, true},
		{"no retries", []error{fail}, -1, 1, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeFetcher{results: tc.results, snap: good}
			var logs bytes.Buffer
			c := NewCache(f, CacheConfig{Retries: tc.retries, MinBackoff: 10 * time.Millisecond, MaxBackoff: 25 * time.Millisecond,
				Logger: slog.New(slog.NewTextHandler(&logs, nil))}, initial)
			var sleeps []time.Duration
			c.sleep = func(_ context.Context, d time.Duration) error { sleeps = append(sleeps, d); return nil }
			err := c.Refresh(context.Background())
			if (err != nil) != tc.wantErr || f.calls != tc.wantCalls || fmt.Sprint(sleeps) != fmt.Sprint(tc.wantSleeps) {
				t.Errorf("err %v, calls %d, sleeps %v; want error %v, calls %d, sleeps %v", err, f.calls, sleeps, tc.wantErr, tc.wantCalls, tc.wantSleeps)
			}
			if tc.wantErr {
				if c.Snapshot() != initial || !c.LastSuccess().IsZero() || !errors.Is(c.LastError(), fail) {
					t.Errorf("after failure: snapshot replaced or state wrong (last success %v, last error %v)", c.LastSuccess(), c.LastError())
				}
				if !strings.Contains(logs.String(), "serving the last good snapshot") {
					t.Errorf("failure not logged: %s", logs.String())
				}
			} else if c.Snapshot() != good || c.LastSuccess().IsZero() || c.LastError() != nil {
				t.Errorf("after success: snapshot %p (want %p), last success %v, last error %v", c.Snapshot(), good, c.LastSuccess(), c.LastError())
			}
		})
	}
}

// TestCacheKeepsLastGood reads the real server, then points the cache at a
// dead one: the snapshot must stay, the error must explain, the password
// must appear nowhere.
func TestCacheKeepsLastGood(t *testing.T) {
	srv := slapd(t)
	cfg := srv.config(t)
	client := mustClient(t, cfg)
	var logs bytes.Buffer
	cache := NewCache(client, CacheConfig{Retries: 2, MinBackoff: time.Millisecond, Logger: slog.New(slog.NewTextHandler(&logs, nil))}, nil)
	if cache.Snapshot() != nil {
		t.Fatal("snapshot before the first fetch")
	}
	if err := cache.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	first, firstOK := cache.Snapshot(), cache.LastSuccess()
	checkSeedPrivilege(t, first)

	closed, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	cfg.URL = fmt.Sprintf("ldap://127.0.0.1:%d", closed)
	cache.f = mustClient(t, cfg)
	err = cache.Refresh(context.Background())
	if err == nil || !strings.Contains(err.Error(), "after 3 attempts") || !strings.Contains(err.Error(), cfg.URL) {
		t.Errorf("Refresh against a dead server: %v", err)
	}
	if cache.Snapshot() != first || !cache.LastSuccess().Equal(firstOK) || cache.LastError() == nil {
		t.Errorf("last good snapshot not kept: snapshot changed %v, last success %v→%v, last error %v",
			cache.Snapshot() != first, firstOK, cache.LastSuccess(), cache.LastError())
	}
	if strings.Contains(logs.String(), srv.rootPW) {
		t.Errorf("log contains the password:\n%s", logs.String())
	}
}

func TestCacheRun(t *testing.T) {
	good := New(nil, nil, Policy{})
	f := &fakeFetcher{results: []error{errors.New("down"), nil}, snap: good}
	c := NewCache(f, CacheConfig{Interval: time.Millisecond, Retries: -1, Logger: slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil))}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	for c.Snapshot() == nil && ctx.Err() == nil {
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Run returned %v, want context.Canceled", err)
	}
	if c.Snapshot() != good {
		t.Errorf("Run never refreshed after the first failure")
	}
}

func TestFileFetcherCache(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "dir.ldif")
	write := func(s string) {
		if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("dn: CN=a,DC=x\nobjectClass: user\nsAMAccountName: a\nmemberOf: CN=Ops,DC=x\n")
	c := NewCache(FileFetcher{Path: path, Policy: Policy{Groups: []string{"CN=Ops,DC=x"}}},
		CacheConfig{Retries: -1, Logger: slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil))}, nil)
	steps := []struct {
		content  string // "" keeps the file
		wantErr  string
		wantPriv bool
	}{
		{"", "", true},
		{"dn: CN=a,DC=x\nobjectClass: user\nsAMAccountName: a\n", "", false},
		{"dn: CN=a,DC=x\nbroken\n", "dir.ldif:2:", false}, // last good kept
	}
	for i, st := range steps {
		if st.content != "" {
			write(st.content)
		}
		err := c.Refresh(context.Background())
		if (st.wantErr == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), st.wantErr)) {
			t.Fatalf("step %d: Refresh = %v, want %q", i, err, st.wantErr)
		}
		u, ok := c.Snapshot().Lookup("a")
		if !ok {
			t.Fatalf("step %d: a missing", i)
		}
		if priv, _ := c.Snapshot().Privileged(u); priv != st.wantPriv {
			t.Errorf("step %d: privileged = %v, want %v", i, priv, st.wantPriv)
		}
	}
}

func TestConfigYAML(t *testing.T) {
	var cfg Config
	in := "url: ldaps://dc1.corp.example\nbind_dn: CN=svc,DC=corp\npassword_env: LDAP_PW\nbase_dn: DC=corp\ntimeout: 10s\nrefresh_interval: 30m\nprivileged_groups: [Tier0]\nadmin_count_privileged: true\n"
	if err := yaml.Unmarshal([]byte(in), &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.Timeout != 10*time.Second || cfg.RefreshInterval != 30*time.Minute || cfg.URL != "ldaps://dc1.corp.example" ||
		!cfg.Policy().AdminCountPrivileged || cfg.Policy().Groups[0] != "Tier0" || cfg.PasswordEnv != "LDAP_PW" {
		t.Errorf("decoded %+v", cfg)
	}
}
