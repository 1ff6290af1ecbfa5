// Package certify owns the one-stop desk's certification of electronic
// copies from a citizen's paper original (chứng thực bản sao điện tử từ bản
// chính, Decree 23/2015/NĐ-CP as amended): the request the desk opens, the
// scan it checks (documents/scancheck), the refusal grounds of article 22,
// and the certifier's step that in one transaction takes the next number of
// the certified-copies register, draws the statement on the last page,
// signs each copy with the certifier's own key (DocMDP P=2) and then with
// the organisation's seal key, keeps the copies permanently and gives the
// citizen an expiring download link and a receipt. It also owns the fee and
// the deadline rules of the procedure.
package certify

import "time"

// Vietnam is the time zone dates, deadlines and numbering years are read
// in (UTC+07:00).
var Vietnam = time.FixedZone("+07", 7*3600)
