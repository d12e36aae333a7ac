package requests

import (
	"mime"
	"path"
	"slices"
	"strings"
	"unicode/utf8"
)

// attachmentExtensions are the extensions a file of each accepted type may
// carry; the first is the one a contradicting name is given.
var attachmentExtensions = map[string][]string{
	"application/pdf": {".pdf"},
	"image/png":       {".png"},
	"image/jpeg":      {".jpg", ".jpeg", ".jpe"},
	"image/gif":       {".gif"},
	"image/webp":      {".webp"},
	"text/plain":      {".txt", ".text", ".log", ".md", ".csv"},
	"text/csv":        {".csv", ".txt"},
	"application/vnd.openxmlformats-officedocument.wordprocessingml.document":   {".docx"},
	"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet":         {".xlsx"},
	"application/vnd.openxmlformats-officedocument.presentationml.presentation": {".pptx"},
	"application/vnd.oasis.opendocument.text":                                   {".odt"},
	"application/vnd.oasis.opendocument.spreadsheet":                            {".ods"},
}

// fitExtension gives a file name the extension of its sniffed content type
// when the client's extension says otherwise ("invoice.html" holding a PDF
// becomes "invoice.pdf"; "scan" becomes "scan.pdf"). Renaming rather than
// refusing: a mislabelled file (a phone's PNG named .jpg) is still the
// attachment the user meant to send, and the name it is downloaded under
// then matches the type it is served as, so no program opens it as
// something it is not.
func fitExtension(name, contentType string) string {
	mediaType, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return name
	}
	exts, ok := attachmentExtensions[mediaType]
	if !ok {
		return name
	}
	ext := path.Ext(name)
	if slices.Contains(exts, strings.ToLower(ext)) {
		return name
	}
	base := strings.TrimSuffix(name, ext)
	if base == "" {
		base = "file"
	}
	// The fitted name still fits CheckFilename's length: a long base loses
	// its last characters rather than the name its extension.
	if over := utf8.RuneCountInString(base) + len(exts[0]) - maxFilename; over > 0 {
		runes := []rune(base)
		base = strings.TrimRight(string(runes[:len(runes)-over]), ".")
	}
	return base + exts[0]
}
