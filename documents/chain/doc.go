// Package chain owns approval chains (trình ký): each organisation's chain
// templates and their versions; each document's chain in flight — its
// stages (review, consult, format-check, sign), whose turn it is under the
// stage's rule (all, any, k of n), deadlines counted in the working
// calendar; the actions people take on it (submit, approve, return,
// comment, forward, add a consultee or a signer, withdraw, reject); the
// signing turns it grants to the signing step (documents.SigningTurns); the
// document status the chain moves; the history of every action; and each
// person's inbox of what waits for them.
//
// Every action locks the document's row, then its chain's, decides on
// what it reads under those locks, and commits with its history entry and
// its audit entry, so concurrent actions on one document resolve to one
// winner and the others see the state it left.
package chain
