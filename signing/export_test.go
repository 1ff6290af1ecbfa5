package signing

// Test helpers for the external test package (signing_test), which can
// import signing/ltv: ltv imports signing, so package signing's own tests
// cannot.
var (
	TestPKIForExternal   = testPKI
	PKIKeyForExternal    = pkiKey
	WritePDFForExternal  = writePDF
	AssertValidExternal  = assertAllValid
	QPDFCheckForExternal = qpdfCheck
	PdfsigLines          = pdfsigValid
	FreshLearning        = freshLearning
)
