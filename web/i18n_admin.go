package web

// adminMessages are the texts of the admin and reports pages.
var adminMessages = catalogue{
	"en": {},
	"fi": {},
}
