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
	subs map[int]*subscriber
	next int

	publish func(Event)
	log     *slog.Logger
}

// New returns an in-memory Bus.
func New(log *slog.Logger) *Bus {
	if log == nil {
		log = slog.Default()
	}
	b := &Bus{subs: map[int]*subscriber{}, log: log}
	b.publish = b.deliver
	return b
}

// channel is the PostgreSQL notification channel.
const channel = "meridian_events"

// UsePostgres makes the bus publish with NOTIFY and deliver what LISTEN
// hears, until ctx ends.
func (b *Bus) UsePostgres(ctx context.Context, dsn string) {
	queue := make(chan Event, 4096)
	b.publish = func(e Event) {
		select {
		case queue <- e: // NOTIFY happens off the caller's path (a commit hook)
		default:
			b.log.Warn("events: NOTIFY queue full; delivering locally only")
			b.deliver(e)
		}
	}
	go b.notifyLoop(ctx, dsn, queue)
	go b.listen(ctx, dsn)
}

// notifyLoop sends queued events with NOTIFY over one connection.
func (b *Bus) notifyLoop(ctx context.Context, dsn string, queue <-chan Event) {
	var conn *pgx.Conn
	defer func() {
		if conn != nil {
			_ = conn.Close(context.Background())
		}
	}()
	for {
		var e Event
		select {
		case <-ctx.Done():
			return
		case e = <-queue:
		}
		payload, _ := json.Marshal(e)
		if conn == nil || conn.IsClosed() {
			c, err := pgx.Connect(ctx, dsn)
			if err != nil {
				b.log.Warn("events: NOTIFY connection", "err", err)
				b.deliver(e) // at least this replica hears it
				continue
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
	for _, sub := range b.subs {
		sub.offer(e)
	}
}

// subscriber holds a subscriber's channel and, when it is full, the events
// still to give it, each row once: a slow subscriber sees the latest state
// of every row it missed rather than losing the last change.
type subscriber struct {
	ch      chan Event
	mu      sync.Mutex
	pending map[Event]bool
	order   []Event
	wake    chan struct{}
}

func (s *subscriber) offer(e Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.order) == 0 {
		select {
		case s.ch <- e:
			return
		default:
		}
	}
	if !s.pending[e] {
		s.pending[e] = true
		s.order = append(s.order, e)
	}
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// drain moves pending events into the channel as the subscriber reads.
func (s *subscriber) drain(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
		}
		for {
			s.mu.Lock()
			if len(s.order) == 0 {
				s.mu.Unlock()
				break
			}
			e := s.order[0]
			s.mu.Unlock()
			select {
			case s.ch <- e:
			case <-ctx.Done():
				return
			}
			s.mu.Lock()
			s.order = s.order[1:]
			delete(s.pending, e)
			s.mu.Unlock()
		}
	}
}

// Subscribe returns a channel of events until ctx ends.
func (b *Bus) Subscribe(ctx context.Context) <-chan Event {
	sub := &subscriber{ch: make(chan Event, 256), pending: map[Event]bool{}, wake: make(chan struct{}, 1)}
	b.mu.Lock()
	id := b.next
	b.next++
	b.subs[id] = sub
	b.mu.Unlock()
	go sub.drain(ctx)
	go func() {
		<-ctx.Done()
		b.mu.Lock()
		delete(b.subs, id)
		b.mu.Unlock()
	}()
	return sub.ch
}
