// Package register owns an organisation's registers (sổ đăng ký) and their
// number series, numbering, and issuing (phát hành): the clerk's step after
// the last signature, which in one transaction takes the next number of the
// right series without gaps, builds the symbol, applies the organisation's
// signature with its seal key as a new signed version, and writes the
// register entry, the document's number and status, its deliveries and the
// audit entry.
package register
