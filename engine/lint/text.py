"""Lint problems in the analyst's language: Indonesian text and element names for every problem.

Rules written since lint became bilingual give both texts themselves. The older rules give
English only; this table says the same in Indonesian, keyed by the shape of the English message.
Parts that are themselves messages (a sandbox refusal inside "condition of 'X': ...") are
translated in turn. tests/engine/test_lint_text.py checks that every message the lint tests
produce has its Indonesian.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from engine.errors import Problem

_Q = r"'(?P<{}>.*?)'"
_TABLE_SOURCE: list[tuple[str, str]] = [
    # service.toml, files and processes
    (r"service\.toml is missing", "service.toml tidak ada"),
    (r"service\.toml is not UTF-8 text", "service.toml bukan teks UTF-8"),
    (r"service\.toml is not valid TOML: (?P<x>.*)", "service.toml bukan TOML yang sah: {x}"),
    (r"unknown key {k} is ignored \(a typo\?\)", "kunci '{k}' tidak dikenal dan diabaikan (salah ketik?)"),
    (r"start_form {f} must be a package path like forms/<name>\.json",
     "start_form '{f}' harus berupa path dalam paket seperti forms/<nama>.json"),
    (r"the file is not UTF-8 text", "berkas bukan teks UTF-8"),
    (r"not valid JSON: (?P<x>.*)", "bukan JSON yang sah: {x}"),
    (r"the (?P<w>.+) must be a JSON object", "{w} harus berupa objek JSON"),
    (r"not a valid JSON Schema \(draft 2020-12\) at (?P<w>.+?): (?P<x>.*)",
     "bukan JSON Schema yang sah (draft 2020-12) di {w}: {x}"),
    (r"(?P<o>.+?): write the (?P<w>.+?) file relative to forms/ \((?P<x>.*)\)",
     "{o}: tulis berkas {w} relatif terhadap forms/ ({x})"),
    (r"(?P<o>.+?): (?P<w>form schema|UI schema) file {v} must be a \.json file",
     "{o}: berkas {w} '{v}' harus berupa berkas .json"),
    (r"(?P<o>.+?): (?P<w>form schema|UI schema) file {v} is not in the package \(expected (?P<p>.*)\)",
     "{o}: berkas {w} '{v}' tidak ada dalam paket (seharusnya {p})"),
    (r"the root element is <(?P<l>[^>]*)>, not a BPMN 2\.0 <bpmn:definitions>",
     "elemen akar adalah <{l}>, bukan <bpmn:definitions> BPMN 2.0"),
    (r"the root element is <(?P<l>[^>]*)>, not DMN <definitions> \(DMN 1\.1 to 1\.3\)",
     "elemen akar adalah <{l}>, bukan <definitions> DMN (DMN 1.1 sampai 1.3)"),
    (r"the package has no \.bpmn file", "paket tidak memiliki berkas .bpmn"),
    (r"the id {i} is reserved by SpiffWorkflow; rename it",
     "id '{i}' dipakai oleh SpiffWorkflow; ganti namanya"),
    (r"the id {i} is used by more than one element", "id '{i}' dipakai oleh lebih dari satu elemen"),
    (r'process {p} must be marked executable \(isExecutable="true"\)',
     'proses \'{p}\' harus ditandai dapat dijalankan (isExecutable="true")'),
    (r"process id {p} is also defined in (?P<f>.*)", "id proses '{p}' juga didefinisikan di {f}"),
    (r"no BPMN process has the id {k} given as key \(processes: (?P<x>.*)\)",
     "tidak ada proses BPMN dengan id '{k}' yang disebut sebagai key (proses: {x})"),
    (r"compensation activities are not supported", "aktivitas kompensasi tidak didukung"),
    # lanes and user tasks
    (r"user task {t} has no formJsonSchemaFilename property",
     "tugas pengguna '{t}' tidak memiliki properti formJsonSchemaFilename"),
    (r"(?:user task|manual task|task) {t} is not in a lane; put it in a lane that names a role",
     "tugas '{t}' tidak berada di lajur; letakkan di lajur yang menyebut peran"),
    (r"(?:user task|manual task|task) {t}: candidateGroups (?P<b>.*) is not a role like 'pupr\.tpa'",
     "tugas '{t}': candidateGroups {b} bukan peran seperti 'pupr.tpa'"),
    (r"(?:user task|manual task|task) {t}: slaDays {s} must be a whole number of working days above 0",
     "tugas '{t}': slaDays '{s}' harus bilangan bulat hari kerja di atas 0"),
    (r"(?:user task|manual task|task) {t}: slaClock {c} must be one of (?P<x>.*)",
     "tugas '{t}': slaClock '{c}' harus salah satu dari {x}"),
    (r"(?:user task|manual task|task) {t}: notify {n} must be one of (?P<x>.*)",
     "tugas '{t}': notify '{n}' harus salah satu dari {x}"),
    (r"lane {l} holds user task\(s\) (?P<t>.*) but has no name; name it, e\.g\. (?P<x>.*)",
     "lajur '{l}' memuat tugas {t} tetapi tidak bernama; beri nama, mis. {x}"),
    (r"lane {l} holds user task\(s\) (?P<t>.*) but names no role; name it like (?P<x>.*?) or give it a role property",
     "lajur '{l}' memuat tugas {t} tetapi tidak menyebut peran; beri nama seperti {x} atau properti role"),
    (r"lane {l}: role property {r} is not a role like 'pupr\.tpa' or 'applicant'",
     "lajur '{l}': properti role '{r}' bukan peran seperti 'pupr.tpa' atau 'applicant'"),
    (r"lane {l}: (?P<p>\w+) {v} must be a plain data key \(letters, digits and _\)",
     "lajur '{l}': {p} '{v}' harus nama data sederhana (huruf, angka, dan _)"),
    (r"lane name {n} is also used by lane {o} in (?P<f>.+) with a different role or binding",
     "nama lajur '{n}' juga dipakai lajur '{o}' di {f} dengan peran atau pengikatan lain"),
    # decisions
    (r"a DMN file must hold exactly one decision; found (?P<n>\d+)",
     "satu berkas DMN harus memuat tepat satu keputusan; ditemukan {n}"),
    (r"decision {d} has no decision table", "keputusan '{d}' tidak memiliki tabel keputusan"),
    (r"business rule task {t} has no spiffworkflow:calledDecisionId",
     "tugas aturan bisnis '{t}' tidak memiliki spiffworkflow:calledDecisionId"),
    (r"business rule task {t} calls decision {d}, which is in no \.dmn file of the package",
     "tugas aturan bisnis '{t}' memanggil keputusan '{d}', yang tidak ada di berkas .dmn mana pun dalam paket"),
    (r"decision input {i}: (?P<x>.*)", "masukan keputusan '{i}': {x}"),
    (r"decision cell {i}: (?P<x>.*)", "sel keputusan '{i}': {x}"),
    (r"rule {r} has (?P<a>\d+) input cells but the table has (?P<b>\d+) inputs",
     "aturan '{r}' memiliki {a} sel masukan tetapi tabel memiliki {b} masukan"),
    (r"it has no expression", "tidak ada ekspresinya"),
    # expressions, loops, timers
    (r"(?P<w>condition|script|pre-script|post-script|loop cardinality|completion condition|loop condition|"
     r"event condition|message payload|correlation expression|payload expression) of {e}: (?P<x>.*)",
     "{w} pada '{e}': {x}"),
    (r"(?P<w>.+?) of {e} must be a plain data name, not {v}", "{w} pada '{e}' harus nama data sederhana, bukan '{v}'"),
    (r"loop item of {e} must have a plain data name as id, not {v}",
     "butir perulangan pada '{e}' harus ber-id nama data sederhana, bukan '{v}'"),
    (r"loop of {e} should set loopMaximum between 1 and (?P<m>\d+); "
     r"the engine stops a case that loops hundreds of times",
     "perulangan pada '{e}' sebaiknya menetapkan loopMaximum antara 1 dan {m}; mesin menghentikan permohonan "
     "yang berulang ratusan kali"),
    (r"the timer of {e} has no (?P<k>\w+) value", "pengatur waktu '{e}' tidak memiliki nilai {k}"),
    (r"the timer of {e}: (?P<k>\w+) (?P<v>\S+) must be a quoted string, e\.g\. (?P<x>\S+) \(timer values are Python "
     r"expressions\)", "pengatur waktu '{e}': {k} {v} harus ditulis dalam tanda kutip, mis. {x} "
     "(nilai pengatur waktu adalah ekspresi Python)"),
    (r"the timer of {e}: (?P<x>.*)", "pengatur waktu '{e}': {x}"),
    (r'"(?P<v>.*)" is not an ISO-8601 duration such as "P2D" or "PT1H"',
     '"{v}" bukan durasi ISO-8601 seperti "P2D" atau "PT1H"'),
    (r'"(?P<v>.*)" is not an ISO-8601 date-time such as (?P<x>.*)', '"{v}" bukan tanggal-waktu ISO-8601 seperti {x}'),
    (r'"(?P<v>.*)" is not an ISO-8601 repeating interval such as (?P<x>.*)',
     '"{v}" bukan interval berulang ISO-8601 seperti {x}'),
    (r'the repeating timer "(?P<v>.*)" repeats every (?P<t>.+); it must wait at least (?P<s>\d+) seconds between '
     r"repeats", 'pengatur waktu berulang "{v}" berulang setiap {t}; jeda antarulangan minimal {s} detik'),
    (r'the duration "?(?P<v>.*?)"? is too long: it would end after the year (?P<y>\d+)',
     'durasi "{v}" terlalu panjang: akan berakhir setelah tahun {y}'),
    (r"the script is empty", "skrip kosong"),
    # flow and call graph
    (r"{n} cannot be reached from a start event of (?P<k>\w+) {c}",
     "'{n}' tidak dapat dicapai dari peristiwa awal {k} '{c}'"),
    (r"{n} has no path to an end event of (?P<k>\w+) {c}",
     "'{n}' tidak memiliki alur menuju peristiwa akhir {k} '{c}'"),
    (r"(?P<k>\w+) {c} has no start event", "{k} '{c}' tidak memiliki peristiwa awal"),
    (r"(?P<k>\w+) {c} has no end event", "{k} '{c}' tidak memiliki peristiwa akhir"),
    (r"call activity {c} does not name the process it calls",
     "aktivitas panggil '{c}' tidak menyebut proses yang dipanggil"),
    (r"call activity {c} calls process {p}, which is not in this package",
     "aktivitas panggil '{c}' memanggil proses '{p}', yang tidak ada dalam paket ini"),
    (r"call activity {c} creates a call cycle: (?P<x>.*) \(the case would never finish\)",
     "aktivitas panggil '{c}' membentuk siklus panggilan: {x} (permohonan tidak akan pernah selesai)"),
    (r"<bpmn:(?P<l>\w+)> in {e} is not supported: (?P<x>.*)", "<bpmn:{l}> pada '{e}' tidak didukung: {x}"),
    (r"SpiffWorkflow cannot load this: (?P<x>.*)", "SpiffWorkflow tidak dapat memuat ini: {x}"),
    (r"the file does not follow the BPMN 2\.0 schema(?P<l>.*?): (?P<x>.*)",
     "berkas tidak mengikuti skema BPMN 2.0{l}: {x}"),
    # documents and templates
    (r"\[document\] must be a table", "[document] harus berupa tabel"),
    (r"document\.(?P<k>\w+) must name a case-data field \(letters, digits, _\)",
     "document.{k} harus menyebut isian data permohonan (huruf, angka, _)"),
    (r"document\.facts item (?P<i>\d+): field must name a case-data field",
     "document.facts butir {i}: field harus menyebut isian data permohonan"),
    (r"document\.facts item (?P<i>\d+): the (?P<l>\w+) label is missing",
     "document.facts butir {i}: label {l} tidak ada"),
    (r"document\.end_events: {e} is not the id of an end event in the package",
     "document.end_events: '{e}' bukan id peristiwa akhir dalam paket"),
    (r"document\.(?P<k>\w+): unknown key is ignored \(a typo\?\)",
     "document.{k}: kunci tidak dikenal diabaikan (salah ketik?)"),
    (r"document\.template {t} is not in the package", "document.template '{t}' tidak ada dalam paket"),
    (r"document template: (?P<x>.*)", "templat dokumen: {x}"),
    (r"the template does not render(?P<l>.*?): (?P<x>.*)", "templat tidak dapat ditampilkan{l}: {x}"),
    (r"the template is not UTF-8 text", "templat bukan teks UTF-8"),
    (r"the first line, the e-mail's subject, is empty", "baris pertama, subjek e-mail, kosong"),
    (r"document\.end_events must list the ids of the end events that yield the product, e\.g\. (?P<x>.*)",
     "document.end_events harus mendaftar id peristiwa akhir yang menghasilkan produk, mis. {x}"),
    (r"document\.template must be the package path of an \.html file, e\.g\. (?P<x>.*)",
     "document.template harus path berkas .html dalam paket, mis. {x}"),
    (r"document\.title must be a table with Indonesian and English text: (?P<x>.*)",
     "document.title harus tabel berisi teks Indonesia dan Inggris: {x}"),
    (r"unknown notification template; name it notifications/<lang>/<event>\.txt with lang (?P<l>.+?) and event "
     r"one of (?P<e>.*)", "templat notifikasi tidak dikenal; beri nama notifications/<bahasa>/<peristiwa>.txt "
     "dengan bahasa {l} dan peristiwa salah satu dari {e}"),
    # package files and uploads
    (r"file name must be a relative path inside the package", "nama berkas harus path relatif di dalam paket"),
    (r"file type not allowed in a package", "jenis berkas tidak diizinkan dalam paket"),
    (r"file is larger than (?P<n>\d+) KiB", "berkas lebih besar dari {n} KiB"),
    (r"more than (?P<n>\d+) files", "lebih dari {n} berkas"),
    (r"package is larger than (?P<n>\d+) MiB", "paket lebih besar dari {n} MiB"),
    (r"not a valid zip file", "bukan berkas zip yang sah"),
    (r"zip expands beyond the package size limit", "isi zip melampaui batas ukuran paket"),
    (r"not a package folder or \.zip file", "bukan folder paket atau berkas .zip"),
    (r"not valid TOML: (?P<x>.*)", "bukan TOML yang sah: {x}"),
    # uploaded XML
    (r"the file is empty", "berkas kosong"),
    (r"the file is (?P<n>[\d,]+) bytes; at most (?P<m>[\d,]+) bytes are allowed",
     "berkas berukuran {n} bita; paling besar {m} bita"),
    (r"the file is encoded as (?P<e>.+); save it as UTF-8", "berkas berkodekan {e}; simpan sebagai UTF-8"),
    (r"the file is not valid UTF-8 \(bad byte at offset (?P<o>\d+)\); save it as UTF-8",
     "berkas bukan UTF-8 yang sah (bita salah pada posisi {o}); simpan sebagai UTF-8"),
    (r"a DOCTYPE or entity declaration is not allowed in uploaded XML",
     "deklarasi DOCTYPE atau entitas tidak diizinkan dalam XML yang diunggah"),
    (r"not well-formed XML at line (?P<l>\d+), column (?P<c>\d+): (?P<x>.*)",
     "XML tidak tersusun benar pada baris {l}, kolom {c}: {x}"),
    (r"not well-formed XML: (?P<x>.*)", "XML tidak tersusun benar: {x}"),
    (r"entity reference &(?P<n>\w+); is not allowed in uploaded XML",
     "rujukan entitas &{n}; tidak diizinkan dalam XML yang diunggah"),
    (r"XInclude element <(?P<n>\w+)> at line (?P<l>\d+) is not allowed",
     "elemen XInclude <{n}> pada baris {l} tidak diizinkan"),
    # sandbox refusals (the inner part of expression messages)
    (r"import is not allowed; use the helpers the platform provides",
     "import tidak diizinkan; gunakan fungsi bantu yang disediakan platform"),
    (r"{n} is not available in scripts", "'{n}' tidak tersedia dalam skrip"),
    (r"attribute {n} of (?P<w>.+) is not available in scripts", "atribut '{n}' dari {w} tidak tersedia dalam skrip"),
    (r"source cannot be parsed: (?P<x>.*)", "kode tidak dapat dibaca: {x}"),
    (r"print is not available: scripts have no output, assign variables instead",
     "print tidak tersedia: skrip tidak punya keluaran, isi variabel sebagai gantinya"),
    (r"(?P<w>class definitions|decorators|with statements|yield|global and nonlocal statements|slice assignment|"
     r"assigning or deleting attributes) (?:are|is) not allowed", "{w} tidak diizinkan"),
    (r"names starting with '_' are not allowed(?P<x>.*)", "nama yang diawali '_' tidak diizinkan{x}"),
]


def _compile(pattern: str) -> re.Pattern[str]:
    names = re.findall(r"\{(\w+)\}", pattern)
    for name in names:
        pattern = pattern.replace("{" + name + "}", _Q.format(name), 1)
    return re.compile(f"^{pattern}$", re.DOTALL)


_TABLE = [(_compile(en), id_) for en, id_ in _TABLE_SOURCE]
_NESTED = frozenset({"x"})  # groups that hold another message


def translate(message: str, depth: int = 0) -> str | None:
    """Return the Indonesian of an English lint message, or None when the table lacks it."""
    for pattern, template in _TABLE:
        match = pattern.match(message)
        if match is None:
            continue
        values = dict(match.groupdict())
        for name in _NESTED & values.keys():
            if depth < 3 and values[name]:
                values[name] = translate(values[name], depth + 1) or values[name]
        return template.format(**values)
    return None


def element_names(roots: Iterable[Any]) -> dict[str, str]:
    """Map element ids to their BPMN names across parsed documents."""
    names: dict[str, str] = {}
    for root in roots:
        for element in root.iter():
            if isinstance(element.tag, str) and element.get("id") and element.get("name"):
                names.setdefault(str(element.get("id")), str(element.get("name")).strip())
    return names


def localize(problems: list[Problem], roots: Iterable[Any]) -> list[Problem]:
    """Fill each problem's Indonesian text and element name where the rule left them empty."""
    names = element_names(roots)
    out = []
    for problem in problems:
        message_id = problem.message_id or translate(problem.message) or ""
        name = problem.element_name or names.get(problem.element_id or "", "")
        out.append(replace(problem, message_id=message_id, element_name=name))
    return out
