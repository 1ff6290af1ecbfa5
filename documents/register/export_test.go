package register

// SignerWidget exposes the widget finder to the package's tests.
var SignerWidget = signerWidget
