package crosscheck

import "strings"

// texts are the cross-test table: every alphabet and the texts that sit
// exactly at each segment boundary (GSM 160/161 alone, 153/154 per part
// beside an 8-bit UDH or SAR, 152 beside a 16-bit UDH; UCS2 70/71, 67 and
// 66 per part), with an extension character or a surrogate pair straddling a
// boundary.
var texts = []struct{ name, text string }{
	{"gsm basic", "Hello @£$¥èéùìòÇ ΔΦΓΛΩΠΨΣΘΞ ÆæßÉ ¡¿ ÄÖÑÜ§ äöñüà"},
	{"gsm extension", `{}[]~\^|€ and a form feed` + "\f"},
	{"latin1 in gsm", "é à ß ñ ¿"},
	{"latin1 only", "Crème brûlée, ça va? Ðþ ê ô â ¢ ® ±"},
	{"emoji", "hi 😀👍🏽 ok 🇬🇧"},
	{"cjk", "漢字かなカナ한국어 中文"},
	{"mixed", "€ 😀 é 漢"},
	{"gsm 160", strings.Repeat("a", 160)},
	{"gsm 161", strings.Repeat("a", 161)},
	{"gsm 152x2", strings.Repeat("b", 304)},
	{"gsm 152x2+1", strings.Repeat("b", 305)},
	{"gsm 153x2", strings.Repeat("c", 306)},
	{"gsm 153x2+1", strings.Repeat("c", 307)},
	{"gsm 154", strings.Repeat("d", 154)},
	{"gsm escape at 153", strings.Repeat("e", 152) + "€" + strings.Repeat("f", 20)},
	{"gsm escape at 152", strings.Repeat("e", 151) + "{" + strings.Repeat("f", 20)},
	{"gsm escapes only", strings.Repeat("€", 90)},
	{"ucs2 70", strings.Repeat("ж", 70)},
	{"ucs2 71", strings.Repeat("ж", 71)},
	{"ucs2 66x2", strings.Repeat("ж", 132)},
	{"ucs2 66x2+1", strings.Repeat("ж", 133)},
	{"ucs2 67x2", strings.Repeat("ж", 134)},
	{"ucs2 67x2+1", strings.Repeat("ж", 135)},
	{"surrogate at 67", strings.Repeat("ж", 66) + "😀" + strings.Repeat("ж", 20)},
	{"surrogate at 66", strings.Repeat("ж", 65) + "😀" + strings.Repeat("ж", 20)},
	{"emoji only", strings.Repeat("😀", 80)},
	{"latin1 140", strings.Repeat("ê", 140)},
	{"latin1 141", strings.Repeat("ê", 141)},
	{"latin1 134x2+1", strings.Repeat("ê", 269)},
}

// strategies are the connector's long-message strategies (operator setting
// long_message_strategy) and the simulator's MO segmentations.
var strategies = []string{"udh8", "udh16", "sar", "payload"}
