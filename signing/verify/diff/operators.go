package diff

// Operand is one operand of a content-stream operator as ScanOperators
// reports it: a number, a name, or something else (string, array,
// dictionary) that only counts.
type Operand struct {
	Number   float64
	IsNumber bool
	Name     string // without the slash
	IsName   bool
}

// ScanOperators tokenizes a content stream with the same lenient lexer the
// change analysis uses, and calls fn for each operator (at most maxOps) with
// the operands before it. An inline image is skipped and reported as "BI"
// without operands. It stops when fn returns false. clean is false when the
// stream had bytes the lexer could not read or more operators than maxOps.
func ScanOperators(data []byte, maxOps int, fn func(op string, operands []Operand) bool) (clean bool) {
	lx := &lexer{b: data}
	var operands []Operand
	ops := 0
	for {
		t, ok := lx.next()
		if !ok {
			break
		}
		if t.kind != tokOperator {
			if len(operands) < 64 {
				operands = append(operands, Operand{
					Number: t.num, IsNumber: t.kind == tokNumber,
					Name: t.str, IsName: t.kind == tokName,
				})
			}
			continue
		}
		if ops++; ops > maxOps {
			return false
		}
		if t.op == "BI" {
			lx.skipInlineImage()
			operands = operands[:0]
		}
		if !fn(t.op, operands) {
			return !lx.bad
		}
		operands = operands[:0]
	}
	return !lx.bad
}
