// A data plane for Traefik's kubernetesIngressNGINX provider: the subset of Traefik's HTTP and
// TLS runtime that decides client-certificate authentication, on Go's crypto/tls (the stack
// Traefik itself terminates TLS with), standard library only. It reads the dynamic configuration
// the project renders (helpers/controllers/traefik/dynamic-config.ts) in Traefik's JSON field names,
// and implements, each as the cited code of traefik/traefik@v3.7.9 does:
//   - TLS options per SNI, and the conflict rule: a host whose routers name different options gets
//     the default options (pkg/server/aggregator.go:193-296, findConflictingRouters);
//   - buildTLSConfig: ClientCAs from caFiles, ClientAuth from clientAuthType, MinVersion, ALPN;
//     options that do not build leave their hosts' connections closed (pkg/tls/tlsmanager.go:441-500,
//     pkg/server/router/tcp/router.go:275-290 brokenTLSRouter);
//   - the certificate by SNI, else a generated default (pkg/tls/certificate_store.go:77-130);
//   - routers by rule and priority (default priority: the rule's length), 404 when none matches;
//   - snicheck: 421 when the connection's TLS options differ from the router's
//     (pkg/middlewares/snicheck/snicheck.go:26-43, pkg/server/router/router.go:378-382);
//   - the middlewares the provider emits for these annotations: RedirectScheme (308 with
//     ForcePermanentRedirect) and AuthTLSPassCertificateToUpstream
//     (pkg/middlewares/ingressnginx/authtlspasscertificatetoupstream/auth_tls_pass_certificate_to_upstream.go:63-105).
//
// SIGHUP reloads the configuration; "loaded generation N" on stdout says a configuration serves.
package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/signal"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

type router struct {
	EntryPoints []string `json:"entryPoints"`
	Rule        string   `json:"rule"`
	Priority    int      `json:"priority"`
	Service     string   `json:"service"`
	Middlewares []string `json:"middlewares"`
	TLS         *struct {
		Options string `json:"options"`
	} `json:"tls"`
}

type middleware struct {
	RedirectScheme *struct {
		Scheme    string `json:"scheme"`
		Port      string `json:"port"`
		Permanent bool   `json:"permanent"`
		// Traefik's internal field (json:"-" there): the provider sets it for ssl-redirect.
		ForcePermanentRedirect bool `json:"forcePermanentRedirect"`
	} `json:"redirectScheme"`
	AuthTLSPassCertificateToUpstream *struct {
		ClientAuthType string   `json:"clientAuthType"`
		CAFiles        []string `json:"caFiles"`
	} `json:"authTLSPassCertificateToUpstream"`
}

type service struct {
	LoadBalancer struct {
		Servers []struct {
			URL string `json:"url"`
		} `json:"servers"`
	} `json:"loadBalancer"`
}

type tlsOptions struct {
	MinVersion    string   `json:"minVersion"`
	ALPNProtocols []string `json:"alpnProtocols"`
	ClientAuth    struct {
		CAFiles        []string `json:"caFiles"`
		ClientAuthType string   `json:"clientAuthType"`
	} `json:"clientAuth"`
}

type dynamicConfig struct {
	Generation int `json:"generation"`
	HTTP       struct {
		Routers     map[string]*router     `json:"routers"`
		Middlewares map[string]*middleware `json:"middlewares"`
		Services    map[string]*service    `json:"services"`
	} `json:"http"`
	TLS struct {
		Certificates []struct {
			CertFile string `json:"certFile"`
			KeyFile  string `json:"keyFile"`
		} `json:"certificates"`
		Options map[string]*tlsOptions `json:"options"`
	} `json:"tls"`
}

const defaultOptions = "default"

// A router ready to match: its rule parsed, its handler chain built.
type route struct {
	name     string
	priority int
	hosts    []string // lower case; empty: any host
	match    func(path string) bool
	handler  http.Handler
}

// What one configuration serves, swapped whole on reload.
type state struct {
	generation  int
	certs       []*tls.Certificate
	defaultCert *tls.Certificate
	// options name -> tls.Config (nil: the options do not build, connections are closed)
	configs map[string]*tls.Config
	// host -> options name for its SNI
	sniOptions map[string]string
	web        []*route
	websecure  []*route
}

var current atomic.Value // *state

// --- rules -------------------------------------------------------------------------------

var (
	hostRe       = regexp.MustCompile(`Host\("([^"]*)"\)`)
	pathRe       = regexp.MustCompile(`^Path\("([^"]*)"\)$`)
	pathPrefixRe = regexp.MustCompile(`^PathPrefix\("([^"]*)"\)$`)
)

// parseRule reads the rules the provider writes (translator.go:573-622 buildRule, buildPrefixRule):
// Host("a") or (Host("a") || Host("b")), && Path("/x"), PathPrefix("/x/"), or (Path(..) || PathPrefix(..)).
func parseRule(rule string) (hosts []string, match func(string) bool, err error) {
	match = func(string) bool { return true }
	for _, term := range strings.Split(rule, " && ") {
		term = strings.TrimSpace(term)
		if strings.Contains(term, "Host(") {
			for _, m := range hostRe.FindAllStringSubmatch(term, -1) {
				hosts = append(hosts, strings.ToLower(m[1]))
			}
			continue
		}
		inner := term
		if strings.HasPrefix(term, "(") && strings.HasSuffix(term, ")") {
			inner = term[1 : len(term)-1]
		}
		var alternatives []func(string) bool
		for _, alt := range strings.Split(inner, " || ") {
			alt = strings.TrimSpace(alt)
			if m := pathRe.FindStringSubmatch(alt); m != nil {
				p := m[1]
				alternatives = append(alternatives, func(path string) bool { return path == p })
			} else if m := pathPrefixRe.FindStringSubmatch(alt); m != nil {
				p := m[1]
				alternatives = append(alternatives, func(path string) bool { return strings.HasPrefix(path, p) })
			} else {
				return nil, nil, fmt.Errorf("unsupported rule term %q", alt)
			}
		}
		match = func(path string) bool {
			for _, a := range alternatives {
				if a(path) {
					return true
				}
			}
			return false
		}
	}
	return hosts, match, nil
}

// --- TLS ---------------------------------------------------------------------------------

var minVersions = map[string]uint16{"VersionTLS10": tls.VersionTLS10, "VersionTLS11": tls.VersionTLS11, "VersionTLS12": tls.VersionTLS12, "VersionTLS13": tls.VersionTLS13}

// buildTLSConfig as traefik's pkg/tls/tlsmanager.go:441-500.
func buildTLSConfig(o *tlsOptions) (*tls.Config, error) {
	conf := &tls.Config{NextProtos: o.ALPNProtocols, SessionTicketsDisabled: true}
	if len(o.ClientAuth.CAFiles) > 0 {
		pool := x509.NewCertPool()
		for _, ca := range o.ClientAuth.CAFiles {
			if !pool.AppendCertsFromPEM([]byte(ca)) {
				return nil, errors.New("invalid certificate(s) content")
			}
		}
		conf.ClientCAs = pool
		conf.ClientAuth = tls.RequireAndVerifyClientCert
	}
	switch t := o.ClientAuth.ClientAuthType; t {
	case "":
	case "NoClientCert":
		conf.ClientAuth = tls.NoClientCert
	case "RequestClientCert":
		conf.ClientAuth = tls.RequestClientCert
	case "RequireAnyClientCert":
		conf.ClientAuth = tls.RequireAnyClientCert
	case "VerifyClientCertIfGiven", "RequireAndVerifyClientCert":
		if conf.ClientCAs == nil {
			return nil, fmt.Errorf("invalid clientAuthType: %s, CAFiles is required", t)
		}
		if t == "VerifyClientCertIfGiven" {
			conf.ClientAuth = tls.VerifyClientCertIfGiven
		} else {
			conf.ClientAuth = tls.RequireAndVerifyClientCert
		}
	default:
		return nil, fmt.Errorf("unknown client auth type %q", t)
	}
	if v, ok := minVersions[o.MinVersion]; ok {
		conf.MinVersion = v
	}
	return conf, nil
}

// matchDomain as certificate_store.go: exact, or one wildcard label.
func matchDomain(name, domain string) bool {
	if name == domain {
		return true
	}
	if strings.HasPrefix(domain, "*.") {
		i := strings.Index(name, ".")
		return i > 0 && name[i:] == domain[1:]
	}
	return false
}

func (s *state) certificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	name := strings.ToLower(strings.TrimSpace(hello.ServerName))
	for _, c := range s.certs {
		leaf := c.Leaf
		for _, d := range append([]string{strings.ToLower(leaf.Subject.CommonName)}, leaf.DNSNames...) {
			if name != "" && matchDomain(name, strings.ToLower(d)) {
				return c, nil
			}
		}
	}
	return s.defaultCert, nil
}

// The options an SNI gets: its host's, else the default (tcp/manager.go:108-200, router.go:160-240).
func (s *state) optionsFor(serverName string) string {
	name := strings.ToLower(strings.TrimSpace(serverName))
	if o, ok := s.sniOptions[name]; ok {
		return o
	}
	for host, o := range s.sniOptions {
		if strings.HasPrefix(host, "*.") && matchDomain(name, host) {
			return o
		}
	}
	return defaultOptions
}

func generatedDefaultCert() *tls.Certificate {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		// Traefik's generated default: CN "TRAEFIK DEFAULT CERT" (pkg/tls/generate/generate.go).
		Subject:     pkix.Name{CommonName: "TRAEFIK DEFAULT CERT"},
		NotBefore:   time.Now().Add(-time.Hour),
		NotAfter:    time.Now().Add(365 * 24 * time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	leaf, _ := x509.ParseCertificate(der)
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
}

// --- HTTP --------------------------------------------------------------------------------

type ctxKey struct{}

// Which options the connection's handshake used, by its underlying connection.
var connOptions sync.Map // net.Conn -> string

func snicheck(options string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS != nil {
			used, _ := r.Context().Value(ctxKey{}).(string)
			if used != options {
				http.Error(w, http.StatusText(http.StatusMisdirectedRequest), http.StatusMisdirectedRequest)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// RedirectScheme as pkg/middlewares/redirect/redirect_scheme.go:30-60 and redirect.go:60-110:
// Location is scheme://host[:port] followed by the request URI as sent (a trailing slash kept);
// ForcePermanentRedirect answers 308 whatever the method, else 302/307 (301/308 when permanent).
func redirectScheme(scheme, port string, permanent, force bool, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := r.Host
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		if port != "" && !(scheme == "https" && port == "443") && !(scheme == "http" && port == "80") {
			host += ":" + port
		}
		status := http.StatusFound
		if r.Method != http.MethodGet {
			status = http.StatusTemporaryRedirect
		}
		if permanent {
			status = http.StatusMovedPermanently
			if r.Method != http.MethodGet {
				status = http.StatusPermanentRedirect
			}
		}
		if force {
			status = http.StatusPermanentRedirect
		}
		w.Header().Set("Location", scheme+"://"+host+r.RequestURI)
		w.WriteHeader(status)
		_, _ = w.Write([]byte(http.StatusText(status)))
	})
}

func passCertificate(clientAuthType string, caFiles []string, next http.Handler) http.Handler {
	var pool *x509.CertPool
	if clientAuthType == "RequestClientCert" && len(caFiles) > 0 {
		pool = x509.NewCertPool()
		for _, ca := range caFiles {
			pool.AppendCertsFromPEM([]byte(ca))
		}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
			r.Header.Set("Ssl-Client-Verify", "NONE")
			r.Header.Del("Ssl-Client-Cert")
			r.Header.Del("Ssl-Client-Subject-Dn")
			r.Header.Del("Ssl-Client-Issuer-Dn")
			next.ServeHTTP(w, r)
			return
		}
		cert := r.TLS.PeerCertificates[0]
		verify := "SUCCESS"
		if clientAuthType == "RequestClientCert" {
			if _, err := cert.Verify(x509.VerifyOptions{Roots: pool}); err != nil {
				verify = "FAILED:" + err.Error()
			}
		}
		r.Header.Set("Ssl-Client-Verify", verify)
		r.Header.Set("Ssl-Client-Subject-Dn", cert.Subject.String())
		r.Header.Set("Ssl-Client-Issuer-Dn", cert.Issuer.String())
		p := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})
		r.Header.Set("Ssl-Client-Cert", strings.ReplaceAll(url.QueryEscape(string(p)), "+", "%20"))
		next.ServeHTTP(w, r)
	})
}

func proxyTo(svc *service) http.Handler {
	if svc == nil || len(svc.LoadBalancer.Servers) == 0 {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, http.StatusText(http.StatusServiceUnavailable), http.StatusServiceUnavailable)
		})
	}
	target, _ := url.Parse(svc.LoadBalancer.Servers[0].URL)
	proxy := httputil.NewSingleHostReverseProxy(target)
	director := proxy.Director
	// Traefik passes the Host header through (passHostHeader defaults to true).
	proxy.Director = func(r *http.Request) {
		host := r.Host
		director(r)
		r.Host = host
	}
	return proxy
}

func build(conf *dynamicConfig) (*state, error) {
	s := &state{generation: conf.Generation, configs: map[string]*tls.Config{}, sniOptions: map[string]string{}, defaultCert: generatedDefaultCert()}
	for _, c := range conf.TLS.Certificates {
		pair, err := tls.X509KeyPair([]byte(c.CertFile), []byte(c.KeyFile))
		if err != nil {
			fmt.Fprintf(os.Stderr, "warning: a certificate does not load: %v\n", err)
			continue
		}
		pair.Leaf, _ = x509.ParseCertificate(pair.Certificate[0])
		s.certs = append(s.certs, &pair)
	}
	// Traefik's default options: TLS 1.2 and up, ALPN h2 and http/1.1 (pkg/tls/tls.go SetDefaults).
	options := map[string]*tlsOptions{defaultOptions: {MinVersion: "VersionTLS12", ALPNProtocols: []string{"h2", "http/1.1"}}}
	for name, o := range conf.TLS.Options {
		options[name] = o
	}
	for name, o := range options {
		c, err := buildTLSConfig(o)
		if err != nil {
			fmt.Fprintf(os.Stderr, "warning: TLS options %s: %v\n", name, err)
			s.configs[name] = nil
			continue
		}
		s.configs[name] = c
	}

	// Resolved options and conflicts (aggregator.go findConflictingRouters).
	resolved := map[string]string{}
	byHost := map[string]map[string][]string{}
	parsed := map[string][]string{}
	for name, r := range conf.HTTP.Routers {
		if r.TLS == nil {
			continue
		}
		resolved[name] = defaultOptions
		if r.TLS.Options != "" {
			resolved[name] = r.TLS.Options
		}
		hosts, _, err := parseRule(r.Rule)
		if err != nil {
			continue
		}
		parsed[name] = hosts
		for _, h := range hosts {
			if byHost[h] == nil {
				byHost[h] = map[string][]string{}
			}
			byHost[h][resolved[name]] = append(byHost[h][resolved[name]], name)
		}
	}
	for host, groups := range byHost {
		if len(groups) < 2 {
			continue
		}
		var names []string
		for _, routers := range groups {
			for _, n := range routers {
				resolved[n] = defaultOptions
				names = append(names, n)
			}
		}
		sort.Strings(names)
		fmt.Fprintf(os.Stderr, "error: Host %q is served by multiple routers with different TLS options, default TLSOptions will be applied for the following routers: %v\n", host, names)
	}
	for name, hosts := range parsed {
		for _, h := range hosts {
			s.sniOptions[h] = resolved[name]
		}
	}

	for name, r := range conf.HTTP.Routers {
		hosts, match, err := parseRule(r.Rule)
		if err != nil {
			fmt.Fprintf(os.Stderr, "warning: router %s: %v\n", name, err)
			continue
		}
		var h http.Handler = proxyTo(conf.HTTP.Services[r.Service])
		for i := len(r.Middlewares) - 1; i >= 0; i-- {
			m := conf.HTTP.Middlewares[r.Middlewares[i]]
			switch {
			case m == nil:
				fmt.Fprintf(os.Stderr, "warning: router %s: middleware %s does not exist\n", name, r.Middlewares[i])
			case m.RedirectScheme != nil:
				h = redirectScheme(m.RedirectScheme.Scheme, m.RedirectScheme.Port, m.RedirectScheme.Permanent, m.RedirectScheme.ForcePermanentRedirect, h)
			case m.AuthTLSPassCertificateToUpstream != nil:
				h = passCertificate(m.AuthTLSPassCertificateToUpstream.ClientAuthType, m.AuthTLSPassCertificateToUpstream.CAFiles, h)
			}
		}
		priority := r.Priority
		if priority == 0 {
			priority = len(r.Rule)
		}
		rt := &route{name: name, priority: priority, hosts: hosts, match: match}
		if r.TLS != nil {
			rt.handler = snicheck(resolved[name], h)
		} else {
			rt.handler = h
		}
		for _, ep := range r.EntryPoints {
			if ep == "websecure" {
				s.websecure = append(s.websecure, rt)
			} else if ep == "web" {
				s.web = append(s.web, rt)
			}
		}
	}
	for _, list := range [][]*route{s.web, s.websecure} {
		sort.SliceStable(list, func(i, j int) bool {
			if list[i].priority != list[j].priority {
				return list[i].priority > list[j].priority
			}
			return list[i].name < list[j].name
		})
	}
	return s, nil
}

func serve(secure bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := current.Load().(*state)
		list := s.web
		if secure {
			list = s.websecure
		}
		host := strings.ToLower(r.Host)
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		for _, rt := range list {
			if len(rt.hosts) > 0 {
				ok := false
				for _, h := range rt.hosts {
					if h == host {
						ok = true
					}
				}
				if !ok {
					continue
				}
			}
			if rt.match(r.URL.Path) {
				rt.handler.ServeHTTP(w, r)
				return
			}
		}
		http.NotFound(w, r)
	})
}

func load(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var conf dynamicConfig
	if err := json.Unmarshal(data, &conf); err != nil {
		return err
	}
	s, err := build(&conf)
	if err != nil {
		return err
	}
	current.Store(s)
	fmt.Printf("loaded generation %d\n", s.generation)
	return nil
}

func main() {
	configPath := flag.String("config", "", "the dynamic configuration (JSON)")
	httpsAddr := flag.String("https", "127.0.0.1:8443", "the websecure entry point")
	httpAddr := flag.String("http", "127.0.0.1:8080", "the web entry point")
	flag.Parse()
	if err := load(*configPath); err != nil {
		fmt.Fprintf(os.Stderr, "fatal: %v\n", err)
		os.Exit(2)
	}

	tlsConf := &tls.Config{
		GetConfigForClient: func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
			s := current.Load().(*state)
			name := s.optionsFor(hello.ServerName)
			c := s.configs[name]
			if c == nil {
				// brokenTLSRouter (tcp/router.go:351-356) closes the connection at once, with no
				// alert: closed before Go can send one.
				_ = hello.Conn.Close()
				return nil, fmt.Errorf("TLS options %s do not build: connection closed", name)
			}
			connOptions.Store(hello.Conn, name)
			c = c.Clone()
			c.GetCertificate = s.certificate
			return c, nil
		},
	}
	secure := &http.Server{
		Handler:  serve(true),
		ErrorLog: nil,
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			if tc, ok := c.(*tls.Conn); ok {
				// The handshake has not run yet: read the options when the first request comes.
				return context.WithValue(ctx, ctxKey{}, lazyOptions{tc})
			}
			return ctx
		},
		ConnState: func(c net.Conn, st http.ConnState) {
			if st == http.StateClosed || st == http.StateHijacked {
				if tc, ok := c.(*tls.Conn); ok {
					connOptions.Delete(tc.NetConn())
				}
			}
		},
	}
	secure.Handler = withOptions(serve(true))
	ln, err := net.Listen("tcp", *httpsAddr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "fatal: %v\n", err)
		os.Exit(2)
	}
	plain := &http.Server{Handler: serve(false)}
	pln, err := net.Listen("tcp", *httpAddr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "fatal: %v\n", err)
		os.Exit(2)
	}
	go func() { _ = plain.Serve(pln) }()
	go func() { _ = secure.Serve(tls.NewListener(ln, tlsConf)) }()

	signals := make(chan os.Signal, 4)
	signal.Notify(signals, syscall.SIGHUP, syscall.SIGTERM, syscall.SIGINT)
	for sig := range signals {
		if sig == syscall.SIGHUP {
			if err := load(*configPath); err != nil {
				fmt.Fprintf(os.Stderr, "error: reload: %v\n", err)
			}
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_ = secure.Shutdown(ctx)
		_ = plain.Shutdown(ctx)
		cancel()
		return
	}
}

type lazyOptions struct{ conn *tls.Conn }

// withOptions puts the connection's TLS options name into the request's context for snicheck.
func withOptions(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if l, ok := r.Context().Value(ctxKey{}).(lazyOptions); ok {
			name, _ := connOptions.Load(l.conn.NetConn())
			n, _ := name.(string)
			r = r.WithContext(context.WithValue(r.Context(), ctxKey{}, n))
		}
		next.ServeHTTP(w, r)
	})
}
