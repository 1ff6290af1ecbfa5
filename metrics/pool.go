package metrics

import (
	"sync"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
)

// poolCollector reads a pgx pool's statistics at each scrape.
type poolCollector struct {
	pool *pgxpool.Pool

	acquired, idle, total, max, constructing *prometheus.Desc
	acquires, emptyAcquires, canceled        *prometheus.Desc
	acquireSeconds                           *prometheus.Desc
}

var (
	poolMu    sync.Mutex
	poolShown *poolCollector
)

// RegisterPool exposes the database pool's connections (in use, idle,
// total, the maximum) and acquisitions (how many, how many had to wait
// for a connection, how long they waited in all). The process shows one
// pool: registering another replaces it.
func RegisterPool(pool *pgxpool.Pool) error {
	poolMu.Lock()
	defer poolMu.Unlock()
	if poolShown != nil {
		Registry.Unregister(poolShown)
		poolShown = nil
	}
	d := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc("vanthu_db_pool_"+name, help, nil, nil)
	}
	c := &poolCollector{pool: pool,
		acquired:       d("acquired_connections", "Connections in use."),
		idle:           d("idle_connections", "Idle connections."),
		total:          d("total_connections", "Open connections."),
		max:            d("max_connections", "Most connections the pool opens."),
		constructing:   d("constructing_connections", "Connections being opened."),
		acquires:       d("acquires_total", "Connections acquired."),
		emptyAcquires:  d("empty_acquires_total", "Acquisitions that waited because no connection was idle."),
		canceled:       d("canceled_acquires_total", "Acquisitions abandoned by their caller."),
		acquireSeconds: d("acquire_seconds_total", "Time spent acquiring connections."),
	}
	if err := Registry.Register(c); err != nil {
		return err
	}
	poolShown = c
	return nil
}

func (c *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.acquired, c.idle, c.total, c.max, c.constructing, c.acquires, c.emptyAcquires, c.canceled, c.acquireSeconds} {
		ch <- d
	}
}

func (c *poolCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.pool.Stat()
	gauge := func(d *prometheus.Desc, v float64) { ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v) }
	counter := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v)
	}
	gauge(c.acquired, float64(s.AcquiredConns()))
	gauge(c.idle, float64(s.IdleConns()))
	gauge(c.total, float64(s.TotalConns()))
	gauge(c.max, float64(s.MaxConns()))
	gauge(c.constructing, float64(s.ConstructingConns()))
	counter(c.acquires, float64(s.AcquireCount()))
	counter(c.emptyAcquires, float64(s.EmptyAcquireCount()))
	counter(c.canceled, float64(s.CanceledAcquireCount()))
	counter(c.acquireSeconds, s.AcquireDuration().Seconds())
}
