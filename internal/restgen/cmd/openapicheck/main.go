// Command openapicheck validates OpenAPI documents with kin-openapi:
//
//	go run ./internal/restgen/cmd/openapicheck rest/otestack/openapi.json
//
// It prints one line per document and exits 1 when any is invalid. With
// -calls FILE (one document only) it also checks recorded calls against the
// document: each line of FILE is a JSON object {"method", "path" (with the
// query), "status", "response" (the body answered, as a string)}, and
// optionally "contentType" and "request" (the body sent, as a string):
// without "request" only the answer is checked (the request may be wrong on
// purpose). Every operation of the document must be exercised.
// hack/otestack-smoke.sh records its walk so.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/meridianplane/meridian/internal/restgen"
	"github.com/meridianplane/meridian/internal/restgen/contract"
)

func main() {
	calls := flag.String("calls", "", "a file of recorded calls to check against the document")
	flag.Parse()
	if flag.NArg() == 0 || (*calls != "" && flag.NArg() != 1) {
		fmt.Fprintln(os.Stderr, "usage: openapicheck [-calls FILE] openapi.json ...")
		os.Exit(2)
	}
	failed := false
	for _, path := range flag.Args() {
		doc, err := restgen.LoadOpenAPI(path)
		if err != nil {
			fmt.Fprintln(os.Stderr, "invalid:", err)
			failed = true
			continue
		}
		fmt.Printf("valid: %s (%s, OpenAPI %s, %d paths)\n", path, doc.Info.Title, doc.OpenAPI, doc.Paths.Len())
		if *calls != "" {
			if err := checkCalls(doc, *calls); err != nil {
				fmt.Fprintln(os.Stderr, err)
				failed = true
			}
		}
	}
	if failed {
		os.Exit(1)
	}
}

type recorded struct {
	Method      string  `json:"method"`
	Path        string  `json:"path"`
	ContentType string  `json:"contentType"`
	Request     *string `json:"request"`
	Status      int     `json:"status"`
	Response    string  `json:"response"`
}

func checkCalls(doc *openapi3.T, file string) error {
	c, err := contract.New(doc)
	if err != nil {
		return err
	}
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	var errs []error
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	n := 0
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var r recorded
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return fmt.Errorf("%s: line %d: %w", file, n+1, err)
		}
		n++
		req := httptest.NewRequest(r.Method, r.Path, nil)
		if r.ContentType != "" {
			req.Header.Set("Content-Type", r.ContentType)
		}
		header := http.Header{"Content-Type": {"application/json"}}
		if r.Request != nil {
			err = c.Check(req, []byte(*r.Request), r.Status, header, []byte(r.Response))
		} else {
			err = c.CheckAnswer(req, r.Status, header, []byte(r.Response))
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	for _, m := range c.Unexercised() {
		errs = append(errs, fmt.Errorf("operation never exercised: %s", m))
	}
	if len(errs) == 0 {
		fmt.Printf("%d calls fit the document; every operation exercised\n", n)
	}
	return errors.Join(errs...)
}
