// Package mailin takes e-mail in: a raw RFC 5322 message from a relay or
// from an IMAP mailbox (Poller) becomes a request, a public comment on a
// request, or an entry in the quarantine with its reason; its attachments
// go through the upload checks onto the request. Nothing that arrives is
// dropped and nothing is answered from here: a message that cannot be taken
// waits for a provider agent to file it for a named person or discard it.
package mailin

// Reason says why a message waits in the quarantine.
type Reason string

// The reasons a message is quarantined.
const (
	ReasonUnknownSender Reason = "unknown_sender" // no enabled user has the From address
	ReasonNoUnit        Reason = "no_unit"        // the sender orders for no unit
	ReasonSeveralUnits  Reason = "several_units"  // the sender orders for more than one unit
	ReasonNoAddress     Reason = "no_address"     // no inbound address among the recipients
	ReasonOversized     Reason = "oversized"      // larger than the limit
	ReasonMalformed     Reason = "malformed"      // not a message Tiski can read
	ReasonAutoReply     Reason = "auto_reply"     // Auto-Submitted, Precedence: bulk/junk/list
	ReasonBounce        Reason = "bounce"         // mailer-daemon, postmaster, null sender, multipart/report
	ReasonHostileHeader Reason = "hostile_header" // control characters in a subject or name
	ReasonSpoofedSender Reason = "spoofed_sender" // the display name shows another address
	ReasonHTMLScript    Reason = "html_script"    // an HTML part with script
	ReasonNotAParty     Reason = "not_a_party"    // a reply by someone who may not comment on the request
	ReasonEmpty         Reason = "empty"          // nothing left to file once quotes are cut
	ReasonRefused       Reason = "refused"        // the request or comment was refused (detail says why)
	ReasonAttachment    Reason = "attachment"     // an attachment failed the upload checks (type, name, empty)
	ReasonArchiveBomb   Reason = "archive_bomb"   // a ZIP attachment expands beyond the limit (a zip bomb)
)

// Reasons lists every reason, for the API's description and the portal.
var Reasons = []Reason{ReasonUnknownSender, ReasonNoUnit, ReasonSeveralUnits, ReasonNoAddress, ReasonOversized,
	ReasonMalformed, ReasonAutoReply, ReasonBounce, ReasonHostileHeader, ReasonSpoofedSender, ReasonHTMLScript,
	ReasonNotAParty, ReasonEmpty, ReasonRefused, ReasonAttachment, ReasonArchiveBomb}
