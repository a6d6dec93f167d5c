package testenv

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
)

// Subscribe opens a graphql-transport-ws subscription with the token in the
// connection_init payload. It returns the stream of data payloads; the
// stream closes when the test ends or the server ends the subscription.
func (e *Env) Subscribe(token, query string, vars map[string]any) <-chan map[string]any {
	e.T.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	e.T.Cleanup(cancel)
	url := "ws" + strings.TrimPrefix(e.URL, "http") + "/graphql"
	conn, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{
		Subprotocols: []string{"graphql-transport-ws"},
		HTTPHeader:   http.Header{"Origin": []string{e.URL}},
	})
	if err != nil {
		e.T.Fatalf("websocket: %v", err)
	}
	e.T.Cleanup(func() { conn.Close(websocket.StatusNormalClosure, "") })
	payload := map[string]any{}
	if token != "" {
		payload["Authorization"] = "Bearer " + token
	}
	init := map[string]any{"type": "connection_init", "payload": payload}
	if err := wsjson.Write(ctx, conn, init); err != nil {
		e.T.Fatal(err)
	}
	var ack map[string]any
	actx, stop := context.WithTimeout(ctx, 5*time.Second)
	defer stop()
	if err := wsjson.Read(actx, conn, &ack); err != nil || ack["type"] != "connection_ack" {
		e.T.Fatalf("connection_init: %v %v", ack, err)
	}
	sub := map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{"query": query, "variables": vars}}
	if err := wsjson.Write(ctx, conn, sub); err != nil {
		e.T.Fatal(err)
	}
	out := make(chan map[string]any, 100)
	go func() {
		defer close(out)
		for {
			var msg struct {
				Type    string          `json:"type"`
				Payload json.RawMessage `json:"payload"`
			}
			if err := wsjson.Read(ctx, conn, &msg); err != nil {
				return
			}
			switch msg.Type {
			case "next":
				var p map[string]any
				_ = json.Unmarshal(msg.Payload, &p)
				out <- p
			case "error", "complete":
				var p any
				_ = json.Unmarshal(msg.Payload, &p)
				out <- map[string]any{"errors": p}
				return
			case "ping":
				_ = wsjson.Write(ctx, conn, map[string]any{"type": "pong"})
			}
		}
	}()
	return out
}
