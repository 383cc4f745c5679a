// The controller-runtime contender of the Maestro benchmark (bench/README.md): the bench's
// Site operator written as a kubebuilder user would write it with controller-runtime.
//
//   - a typed Site API (hand-written deep copies instead of controller-gen's);
//   - builder: For(Site) with GenerationChangedPredicate, Owns(ConfigMap), Owns(Service),
//     MaxConcurrentReconciles from BENCH_CONCURRENCY;
//   - Reconcile: get the Site from the cache, server-side apply both children (typed apply
//     configurations, controller owner reference, field manager "site-operator", force),
//     set Ready=True with meta.SetStatusCondition and patch the status (merge patch) when
//     it changed;
//   - rest.Config QPS 1000 / burst 2000 (client-go's default of 5/10 would decide the
//     result), the cache limited to the bench namespace, metrics and probes off, no leader
//     election, zap at error level; protobuf for ConfigMaps and Services, as
//     controller-runtime chooses (BENCH_CR_CONTENT_TYPE=json: JSON, for A/B runs).
//
// It speaks the harness's protocol on stdin/stdout, one JSON object per line (see
// bench/contender.ts): it reports {"type":"ready"} once the caches are synced, answers
// {"cmd":"snapshot"} with its counters, and on {"cmd":"stop"} stops the manager, reports
// "final" and waits for {"cmd":"exit"} (so the harness can read /proc before it exits).
// Requests are counted by a RoundTripper wrapped around client-go's transport and
// connections by the dialer, classified as bench/requests.cts does.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap/zapcore"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	metav1ac "k8s.io/client-go/applyconfigurations/meta/v1"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/clientcmd"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/scheme"
)

const fieldManager = "site-operator"

var started = time.Now()

// ---- the Site API (what controller-gen would generate from these types) ----

var siteGV = schema.GroupVersion{Group: "bench.maestro.dev", Version: "v1"}

type SiteSpec struct {
	Content string `json:"content"`
	Port    int32  `json:"port"`
}

type SiteStatus struct {
	ObservedGeneration int64              `json:"observedGeneration,omitempty"`
	Conditions         []metav1.Condition `json:"conditions,omitempty"`
}

type Site struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              SiteSpec   `json:"spec,omitempty"`
	Status            SiteStatus `json:"status,omitempty"`
}

type SiteList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Site `json:"items"`
}

func (in *Site) DeepCopyInto(out *Site) {
	*out = *in
	out.TypeMeta = in.TypeMeta
	in.ObjectMeta.DeepCopyInto(&out.ObjectMeta)
	out.Spec = in.Spec
	out.Status.ObservedGeneration = in.Status.ObservedGeneration
	if in.Status.Conditions != nil {
		out.Status.Conditions = make([]metav1.Condition, len(in.Status.Conditions))
		for i := range in.Status.Conditions {
			in.Status.Conditions[i].DeepCopyInto(&out.Status.Conditions[i])
		}
	}
}

func (in *Site) DeepCopy() *Site {
	if in == nil {
		return nil
	}
	out := new(Site)
	in.DeepCopyInto(out)
	return out
}

func (in *Site) DeepCopyObject() kruntime.Object { return in.DeepCopy() }

func (in *SiteList) DeepCopyObject() kruntime.Object {
	if in == nil {
		return nil
	}
	out := new(SiteList)
	*out = *in
	in.ListMeta.DeepCopyInto(&out.ListMeta)
	if in.Items != nil {
		out.Items = make([]Site, len(in.Items))
		for i := range in.Items {
			in.Items[i].DeepCopyInto(&out.Items[i])
		}
	}
	return out
}

// ---- the reconciler ----

type SiteReconciler struct {
	client.Client
	reconciles atomic.Int64
}

func childLabels(name string) map[string]string {
	return map[string]string{"app.kubernetes.io/name": "site", "app.kubernetes.io/instance": name}
}

func (r *SiteReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var site Site
	if err := r.Get(ctx, req.NamespacedName, &site); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	r.reconciles.Add(1)
	defer activity()
	owner := metav1ac.OwnerReference().
		WithAPIVersion(siteGV.String()).WithKind("Site").WithName(site.Name).WithUID(site.UID).
		WithController(true).WithBlockOwnerDeletion(true)

	cm := corev1ac.ConfigMap(site.Name, site.Namespace).
		WithLabels(childLabels(site.Name)).
		WithOwnerReferences(owner).
		WithData(map[string]string{"index.html": site.Spec.Content})
	if err := r.Apply(ctx, cm, client.FieldOwner(fieldManager), client.ForceOwnership); err != nil {
		return ctrl.Result{}, err
	}
	svc := corev1ac.Service(site.Name, site.Namespace).
		WithLabels(childLabels(site.Name)).
		WithOwnerReferences(owner).
		WithSpec(corev1ac.ServiceSpec().
			WithSelector(childLabels(site.Name)).
			WithPorts(corev1ac.ServicePort().WithName("http").WithPort(site.Spec.Port).WithTargetPort(intstr.FromInt32(8080))))
	if err := r.Apply(ctx, svc, client.FieldOwner(fieldManager), client.ForceOwnership); err != nil {
		return ctrl.Result{}, err
	}

	before := site.DeepCopy()
	meta.SetStatusCondition(&site.Status.Conditions, metav1.Condition{
		Type: "Ready", Status: metav1.ConditionTrue, Reason: "Reconciled",
		Message:            fmt.Sprintf("serving %s on port %d", site.Name, site.Spec.Port),
		ObservedGeneration: site.Generation,
	})
	site.Status.ObservedGeneration = site.Generation
	if equality.Semantic.DeepEqual(before.Status, site.Status) {
		return ctrl.Result{}, nil
	}
	return ctrl.Result{}, r.Status().Patch(ctx, &site, client.MergeFrom(before))
}

// ---- counters (the same classification as bench/requests.cts) ----

type counters struct {
	mu             sync.Mutex
	Total          int64            `json:"total"`
	ByKind         map[string]int64 `json:"byKind"`
	ByStatus       map[string]int64 `json:"byStatus"`
	ConnectionsNet int64            `json:"-"`
}

var requests = &counters{ByKind: map[string]int64{}, ByStatus: map[string]int64{}}

// lastActivity: nanoseconds since start of the last request sent or reconcile finished.
var lastActivity atomic.Int64

func activity() { lastActivity.Store(int64(time.Since(started))) }

var watchQuery = regexp.MustCompile(`(^|&)watch=(true|1)(&|$)`)

func classify(method, path, query string) string {
	if watchQuery.MatchString(query) {
		return "watch"
	}
	switch strings.ToUpper(method) {
	case "GET":
		if isCollection(path) {
			return "list"
		}
		return "get"
	case "PATCH":
		if strings.HasSuffix(path, "/status") {
			return "patchStatus"
		}
		return "patch"
	case "POST":
		return "post"
	case "PUT":
		return "put"
	case "DELETE":
		return "delete"
	}
	return "other"
}

func isCollection(path string) bool {
	parts := []string{}
	for _, p := range strings.Split(path, "/") {
		if p != "" {
			parts = append(parts, p)
		}
	}
	var rest []string
	switch {
	case len(parts) > 0 && parts[0] == "api":
		if len(parts) < 2 {
			return false
		}
		rest = parts[2:]
	case len(parts) > 0 && parts[0] == "apis":
		if len(parts) < 3 {
			return false
		}
		rest = parts[3:]
	default:
		return false
	}
	if len(rest) >= 3 && rest[0] == "namespaces" {
		rest = rest[2:]
	}
	return len(rest) == 1
}

type countingTransport struct{ next http.RoundTripper }

func (t countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	kind := classify(req.Method, req.URL.Path, req.URL.RawQuery)
	requests.mu.Lock()
	requests.Total++
	requests.ByKind[kind]++
	requests.mu.Unlock()
	activity()
	resp, err := t.next.RoundTrip(req)
	status := "0"
	if err == nil {
		if resp.StatusCode >= 200 && resp.StatusCode < 300 {
			status = "2xx"
		} else {
			status = strconv.Itoa(resp.StatusCode)
		}
	}
	requests.mu.Lock()
	requests.ByStatus[status]++
	requests.mu.Unlock()
	return resp, err
}

// ---- the harness protocol ----

type requestCounters struct {
	Total       int64            `json:"total"`
	ByKind      map[string]int64 `json:"byKind"`
	ByStatus    map[string]int64 `json:"byStatus"`
	Connections struct {
		Net    int64 `json:"net"`
		Undici int64 `json:"undici"`
	} `json:"connections"`
}

type stats struct {
	Requests       requestCounters `json:"requests"`
	Reconciles     int64           `json:"reconciles"`
	HeapUsedBytes  uint64          `json:"heapUsedBytes"`
	UptimeMs       int64           `json:"uptimeMs"`
	LastActivityMs float64         `json:"lastActivityMs"`
}

var out = json.NewEncoder(os.Stdout)
var outMu sync.Mutex

func send(message map[string]any) {
	outMu.Lock()
	defer outMu.Unlock()
	_ = out.Encode(message)
}

func snapshot(r *SiteReconciler, gc bool) stats {
	var s stats
	requests.mu.Lock()
	s.Requests.Total = requests.Total
	s.Requests.ByKind = map[string]int64{}
	for k, v := range requests.ByKind {
		s.Requests.ByKind[k] = v
	}
	s.Requests.ByStatus = map[string]int64{}
	for k, v := range requests.ByStatus {
		s.Requests.ByStatus[k] = v
	}
	s.Requests.Connections.Net = requests.ConnectionsNet
	requests.mu.Unlock()
	if r != nil {
		s.Reconciles = r.reconciles.Load()
	}
	if gc {
		runtime.GC()
	}
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	s.HeapUsedBytes = m.HeapAlloc
	s.UptimeMs = time.Since(started).Milliseconds()
	s.LastActivityMs = float64(lastActivity.Load()) / 1e6
	return s
}

func fail(err error) {
	send(map[string]any{"type": "failed", "error": err.Error()})
	os.Exit(1)
}

func main() {
	kubeconfig, namespace := os.Getenv("KUBECONFIG"), os.Getenv("BENCH_NAMESPACE")
	if kubeconfig == "" || namespace == "" {
		fmt.Fprintln(os.Stderr, "KUBECONFIG and BENCH_NAMESPACE must be set (contenders are started by bench/run.js)")
		os.Exit(2)
	}
	concurrency, err := strconv.Atoi(os.Getenv("BENCH_CONCURRENCY"))
	if err != nil || concurrency < 1 {
		concurrency = 8
	}
	ctrl.SetLogger(zap.New(zap.Level(zapcore.ErrorLevel), zap.WriteTo(os.Stderr)))

	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		fail(err)
	}
	cfg.QPS, cfg.Burst = 1000, 2000
	// BENCH_CR_CONTENT_TYPE=json: JSON for built-in kinds too (controller-runtime speaks
	// protobuf to the API server for the kinds client-go's scheme knows: here ConfigMaps and
	// Services), for A/B runs against the Node contenders, which speak JSON.
	if os.Getenv("BENCH_CR_CONTENT_TYPE") == "json" {
		cfg.ContentType = "application/json"
	}
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper { return countingTransport{rt} })
	dialer := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	cfg.Dial = func(ctx context.Context, network, address string) (net.Conn, error) {
		requests.mu.Lock()
		requests.ConnectionsNet++
		requests.mu.Unlock()
		return dialer.DialContext(ctx, network, address)
	}

	sch := kruntime.NewScheme()
	if err := clientgoscheme.AddToScheme(sch); err != nil {
		fail(err)
	}
	if err := (&scheme.Builder{GroupVersion: siteGV}).Register(&Site{}, &SiteList{}).AddToScheme(sch); err != nil {
		fail(err)
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                 sch,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		LeaderElection:         false,
		Cache:                  cache.Options{DefaultNamespaces: map[string]cache.Config{namespace: {}}},
	})
	if err != nil {
		fail(err)
	}
	r := &SiteReconciler{Client: mgr.GetClient()}
	err = ctrl.NewControllerManagedBy(mgr).
		For(&Site{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Owns(&corev1.ConfigMap{}).
		Owns(&corev1.Service{}).
		WithOptions(controller.Options{MaxConcurrentReconciles: concurrency}).
		Complete(r)
	if err != nil {
		fail(err)
	}

	// Ready once the informers of all three kinds (shared with the controller) have synced;
	// the manager starts this runnable after its caches.
	err = mgr.Add(manager.RunnableFunc(func(ctx context.Context) error {
		for _, obj := range []client.Object{&Site{}, &corev1.ConfigMap{}, &corev1.Service{}} {
			if _, err := mgr.GetCache().GetInformer(ctx, obj); err != nil {
				return err
			}
		}
		if !mgr.GetCache().WaitForCacheSync(ctx) {
			return nil
		}
		activity()
		send(map[string]any{"type": "ready", "stats": snapshot(r, false)})
		return nil
	}))
	if err != nil {
		fail(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()

	lines := bufio.NewScanner(os.Stdin)
	for lines.Scan() {
		var cmd struct {
			Cmd string `json:"cmd"`
			ID  int    `json:"id"`
			GC  bool   `json:"gc"`
		}
		if json.Unmarshal(lines.Bytes(), &cmd) != nil {
			continue
		}
		switch cmd.Cmd {
		case "snapshot":
			send(map[string]any{"type": "snapshot", "id": cmd.ID, "stats": snapshot(r, cmd.GC)})
		case "stop":
			cancel()
			select {
			case err := <-done:
				if err != nil {
					fmt.Fprintln(os.Stderr, "manager:", err)
				}
			case <-time.After(30 * time.Second):
				fmt.Fprintln(os.Stderr, "manager did not stop within 30 s")
			}
			send(map[string]any{"type": "final", "stats": snapshot(r, false)})
		case "exit":
			os.Exit(0)
		}
	}
	// stdin closed: the harness went away.
	os.Exit(0)
}
