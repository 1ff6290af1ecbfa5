package audit

// ComputeHash lets the tests forge entries the way someone who knows the
// scheme would.
func (en *Entry) ComputeHash() []byte { return en.computeHash() }
