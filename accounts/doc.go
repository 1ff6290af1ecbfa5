// Package accounts owns who may do what: the directory of organisations,
// units, users and roles; signing authority (delegations under Decree 30
// art. 13 and key bindings); passwords, sessions and API tokens; and the one
// authorization policy every route applies. It is a top-level package
// because documents, the web API and the admin CLI all decide through it,
// and none of them should carry its rules.
package accounts
