// Package ui owns the HTML pages: server-rendered html/template pages in
// Vietnamese (default) and English, their embedded static files, and the
// handlers behind them. Handlers call the service layer (documents.Service,
// accounts.Service, the verifier) directly, never the JSON API, and
// authorize every page through accounts.Authorize as the API does.
//
// Each workflow's pages are one file of handlers (a section: its routes,
// its navigation entry, its messages) plus its templates; see sections in
// ui.go for the list. Front-end packages (htmx, pdf.js, Chart.js) come from
// npm through package-lock.json and are copied into static/vendor by
// `make assets` (scripts/build-assets.sh): generated, never committed.
package ui
