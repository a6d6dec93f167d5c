// Package events carries change notices to GraphQL subscriptions: which
// operation or deployment changed. Subscribers load the row themselves under
// their own privacy, so a notice never leaks data across tenants. In one
// process notices go through memory; with PostgreSQL they go through
// LISTEN/NOTIFY, so subscribers on every replica hear every change.
package events

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Topics.
const (
	Operation  = "operation"
	Deployment = "deployment"
)

// Event says that a row changed.
type Event struct {
	Topic string `json:"t"`
	ID    int    `json:"id"`
}

// Bus delivers events to subscribers.
type Bus struct {
	mu   sync.Mutex
	subs map[int]chan Event
	next int

	publish func(Event)
	log     *slog.Logger
}

// New returns an in-memory Bus.
func New(log *slog.Logger) *Bus {
	if log == nil {
		log = slog.Default()
	}
	b := &Bus{subs: map[int]chan Event{}, log: log}
	b.publish = b.deliver
	return b
}

// channel is the PostgreSQL notification channel.
const channel = "meridian_events"

// UsePostgres makes the bus publish with NOTIFY and deliver what LISTEN
// hears, until ctx ends.
func (b *Bus) UsePostgres(ctx context.Context, dsn string) {
	var (
		mu   sync.Mutex
		conn *pgx.Conn
	)
	b.publish = func(e Event) {
		payload, _ := json.Marshal(e)
		mu.Lock()
		defer mu.Unlock()
		if conn == nil || conn.IsClosed() {
			c, err := pgx.Connect(ctx, dsn)
			if err != nil {
				b.log.Warn("events: NOTIFY connection", "err", err)
				b.deliver(e) // at least this replica hears it
				return
			}
			conn = c
		}
		if _, err := conn.Exec(ctx, "SELECT pg_notify($1, $2)", channel, string(payload)); err != nil {
			b.log.Warn("events: NOTIFY", "err", err)
			_ = conn.Close(ctx)
			conn = nil
			b.deliver(e)
		}
	}
	go b.listen(ctx, dsn)
}

func (b *Bus) listen(ctx context.Context, dsn string) {
	for ctx.Err() == nil {
		conn, err := pgx.Connect(ctx, dsn)
		if err == nil {
			_, err = conn.Exec(ctx, "LISTEN "+channel)
		}
		for err == nil {
			var n *pgconn.Notification
			n, err = conn.WaitForNotification(ctx)
			if err == nil {
				var e Event
				if json.Unmarshal([]byte(n.Payload), &e) == nil {
					b.deliver(e)
				}
			}
		}
		if conn != nil {
			_ = conn.Close(context.Background())
		}
		if ctx.Err() == nil {
			b.log.Warn("events: LISTEN", "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		}
	}
}

// Publish announces a change.
func (b *Bus) Publish(topic string, id int) { b.publish(Event{Topic: topic, ID: id}) }

func (b *Bus) deliver(e Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, ch := range b.subs {
		select {
		case ch <- e:
		default: // a slow subscriber misses a notice rather than stall everyone
		}
	}
}

// Subscribe returns a channel of events until ctx ends.
func (b *Bus) Subscribe(ctx context.Context) <-chan Event {
	ch := make(chan Event, 256)
	b.mu.Lock()
	id := b.next
	b.next++
	b.subs[id] = ch
	b.mu.Unlock()
	go func() {
		<-ctx.Done()
		b.mu.Lock()
		delete(b.subs, id)
		b.mu.Unlock()
	}()
	return ch
}
