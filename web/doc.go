// Package web is the HTTP face of vanthu: the chi router, the JSON API under
// /api/v1 with RFC 9457 problem details, authentication middleware and health
// endpoints.
package web
