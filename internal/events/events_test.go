package events

import (
	"context"
	"testing"
	"time"
)

// TestSlowSubscriberMissesNothing: a subscriber that does not read while
// many events arrive still gets every row's latest notice.
func TestSlowSubscriberMissesNothing(t *testing.T) {
	b := New(nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch := b.Subscribe(ctx)
	for round := 0; round < 5; round++ {
		for id := 0; id < 400; id++ {
			b.Publish(Operation, id)
		}
	}
	seen := map[int]bool{}
	deadline := time.After(5 * time.Second)
	for len(seen) < 400 {
		select {
		case e := <-ch:
			seen[e.ID] = true
		case <-deadline:
			t.Fatalf("saw %d of 400 rows", len(seen))
		}
	}
}
