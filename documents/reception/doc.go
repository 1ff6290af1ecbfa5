// Package reception owns văn bản đến up to registration: each
// organisation's reception queue (deliveries from other organisations of
// this deployment, which arrive when the arrival processor picks them up,
// and files its clerks upload — electronic documents received another way
// or scans of paper), the verification report made once at arrival and
// kept with it, registration with the số đến of the organisation's default
// incoming register (taken from register_counters in the registering
// transaction, so gap-free), the incoming document it creates, the
// duplicate check (same issuer, number, symbol and year), returning an
// arrival to its sender, and the receiver's side of a recall.
//
// An incoming document is a documents row of the receiving organisation in
// status received (documents.StatusReceived) holding the file as it
// arrived as version 1; its sender fields stay on the arrival and in the
// incoming register entry (incoming_entries), which link to it.
package reception
