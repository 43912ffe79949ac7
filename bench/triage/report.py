"""The evaluation's report as text: the machine, then one table per engine and split, then the
deadline phrases and the messages behind the worst figures."""

from __future__ import annotations

__all__ = ["cv_lines", "render"]


def _mail_rows(f: dict) -> list[tuple[str, str]]:
    ham, spam, now = f["ham"], f["spam"], f["now"]
    return [
        ("messages (ham / spam)", f"{ham['messages']} / {spam['messages']}"),
        ("spam at urgent/high", f"{spam['urgent_or_high']}"),
        ("spam at normal or above", f"{spam['normal_or_above']} ({spam['normal_or_above_pct']}%)"),
        ("**spam in Now**", f"{spam['in_now']} ({spam['in_now_pct']}% of spam)"),
        ("spam share of Now cards", f"{now['spam_share_pct']}% ({now['spam_cards']} of {now['cards']})"),
        ("deadlines found in spam", f"{spam['deadlines']} in {spam['with_deadline']} messages"),
        ("spam priority urgent/high/normal/low", _priorities(spam)),
        ("ham marked bulk or low", f"{ham['bulk_or_low']} ({ham['bulk_or_low_pct']}%; bulk {ham['bulk']})"),
        ("ham marked spam (content model)", f"{ham.get('marked_spam', 0)}"),
        ("spam marked spam (content model)", f"{spam.get('marked_spam', 0)}"),
        ("ham priority urgent/high/normal/low", _priorities(ham)),
        ("ham in Now", f"{ham['in_now']} ({ham['in_now_pct']}% of ham)"),
        ("deadlines found in ham", f"{ham['deadlines']} in {ham['with_deadline']} messages"),
        ("parse failures (ham / spam)", f"{ham['parse_failures']} / {spam['parse_failures']}"),
        ("text empty, raw has text: ham", _lost(ham)),
        ("text empty, raw has text: spam", _lost(spam)),
        ("summary cut wrong or a stub: ham", _flaws(ham)),
        ("summary cut wrong or a stub: spam", _flaws(spam)),
        ("LLM answers replaced by rules", f"{f['fallbacks_to_rules']}"),
        ("ms per message (parse / triage)", _speed(f["speed"])),
    ]


def _lost(group: dict) -> str:
    return f"{group['text_lost']} ({_where(group['text_lost_where'])})" if group["text_lost"] else "0"


def _flaws(group: dict) -> str:
    kinds = group.get("summary_flaws_kind", {})
    return f"{group['summary_flaws']} ({_where(kinds)})" if group.get("summary_flaws") else "0"


def _priorities(group: dict) -> str:
    return " / ".join(str(group["priority"][p]) for p in ("urgent", "high", "normal", "low"))


def _where(where: dict) -> str:
    return ", ".join(f"{place} {count}" for place, count in sorted(where.items()))


def _speed(speed: dict) -> str:
    line = f"{speed['parse_ms_per_message']} / {speed['triage_ms_per_message']}"
    return line + f" ({speed['messages_per_second']} msg/s, {speed['seconds']} s)"


def _table(title: str, by_split: dict[str, dict]) -> list[str]:
    splits = list(by_split)
    rows = {split: dict(_mail_rows(by_split[split])) for split in splits}
    lines = [f"### {title}", "", "| figure | " + " | ".join(splits) + " |", "|---|" + "---|" * len(splits)]
    for name in rows[splits[0]]:
        lines.append(f"| {name} | " + " | ".join(rows[split][name] for split in splits) + " |")
    return lines


def _phrase_lines(by_split: dict[str, dict]) -> list[str]:
    lines = ["### Deadline phrases (`bench/data/deadline_phrases.tsv`, date within a day)", ""]
    lines += ["| split | phrases | with a deadline | detected | right | precision | recall |"]
    lines += ["|---|---|---|---|---|---|---|"]
    for split, s in by_split.items():
        lines.append(
            f"| {split} | {s['phrases']} | {s['with_deadline']} | {s['detected']} | {s['right']} "
            f"| {s['precision_pct']}% | {s['recall_pct']}% |"
        )
    dev = by_split["dev"]  # the reserved phrases are never listed
    lines += ["", "Per family (dev): right / phrases", ""]
    lines.append(", ".join(f"{name} {t['right']}/{t['phrases']}" for name, t in dev["families"].items()))
    lines += ["", f"False positives (dev, {len(dev['false_positives'])}):", ""]
    lines += [
        f"- #{fp['number']} [{fp['family']}] {fp['phrase']!r}: found {', '.join(fp['found'])}, "
        f"expected {fp['expected']}"
        for fp in dev["false_positives"]
    ]
    return lines


def _example_lines(name: str, examples: dict[str, list[dict]]) -> list[str]:
    lines = []
    for kind, rows in examples.items():
        if rows:
            lines += ["", f"{name}, {kind.replace('_', ' ')} (first {len(rows)}):"]
            for row in rows:
                detail = (
                    row["parse_error"]
                    or row["text_lost"]
                    or (row.get("summary_flaw") and f"summary: {row['summary_flaw']}")
                    or "; ".join(row["deadlines"] or row["reasons"])
                )
                detail = detail or "no rule fired"
                lines.append(
                    f"- {row['id']} [{row['priority']}/{row['category']}] {row['summary']} | {detail}"
                )
    return lines


def cv_lines(cv: dict) -> list[str]:
    """The content model's cross-validated figures: the honest ones (the main table's model saw every
    message it scores there)."""

    def share(figure: dict) -> str:
        return f"{figure['count']} of {figure['of']} ({figure['percent']}%)"

    lines = [
        f"### Content model, {cv['k']}-fold cross-validation (dev, stratified, seed {cv['seed']})",
        "",
        "Each message scored and triaged by a model built without it; operating threshold: log-odds "
        f">= {cv['threshold']:g}.",
        "",
        "| threshold (log-odds) | spam recall | ham marked spam |",
        "|---|---|---|",
    ]
    for threshold, row in cv["model_alone"].items():
        lines.append(f"| {threshold} | {share(row['spam_recall'])} | {share(row['ham_marked_spam'])} |")
    lines += [
        "",
        "| through rules triage (CV) | figure |",
        "|---|---|",
        f"| spam at urgent/high | {cv['spam_urgent_high']} |",
        f"| spam at normal or above | {share(cv['spam_normal_or_above'])} |",
        f"| spam in Now | {share(cv['spam_in_now'])} |",
        f"| ham marked spam | {share(cv['ham_marked_spam'])} |",
        f"| ham marked bulk or low | {share(cv['ham_bulk_or_low'])} |",
    ]
    for kind in ("spam_missed_examples", "ham_marked_spam_examples"):
        if cv[kind]:
            lines += ["", f"CV, {kind.replace('_', ' ')} (first {len(cv[kind])}):", ""]
            lines += [f"- {row}" for row in cv[kind]]
    return lines


def corrections_lines(cv: dict) -> list[str]:
    """The content model before and after the user's corrections, on messages no correction touched."""
    given = cv["corrections_given"]
    lines = [
        f"### Content model taught by corrections, {cv['k']}-fold (dev, seed {cv['seed']})",
        "",
        "Per fold: the first half of the held-out messages corrected where the model was wrong (spam let "
        f"through: 'Never' {given['never']['spam']}x or 'Not important' {given['not_important']['spam']}x; "
        f"ham called spam: 'Important' {given['never']['ham']}x); figures on the second half "
        f"({cv['later_half']['spam']} spam, {cv['later_half']['ham']} ham).",
        "",
        "| second half | spam recall | ham marked spam | spam at normal or above | ham in spam | spam mean log-odds |",
        "|---|---|---|---|---|---|",
    ]
    for name, row in cv["rows"].items():
        cells = [
            row[key]
            for key in ("spam_recall", "ham_marked_spam", "spam_normal_or_above", "ham_spam_category")
        ]
        shown = " | ".join(f"{c['count']} ({c['percent']}%)" for c in cells)
        label = "before" if name == "before" else f"after '{name.replace('_', ' ')}'"
        lines.append(f"| {label} | {shown} | {row['spam_mean_log_odds']} |")
    return lines


def render(report: dict) -> str:
    m = report["machine"]
    uncommitted = ", ".join(m["uncommitted"]) or "none"
    lines = [
        f"Triage evaluation, {m['date']}, commit {m['commit']} (uncommitted changes: {uncommitted})",
        f"{m['platform']}, Python {m['python']}, {m['cpus']} CPUs, load average {m['load_before']} before, "
        f"{m['load_after']} after; " + ", ".join(f"{k} {v}" for k, v in m["versions"].items()),
        f"Corpus {m['corpus']}; seed {m['seed']}; the user: {', '.join(report['user_addresses'])} (new: "
        "no correspondents, VIPs or projects); Now = email signals not low, not bulk and not spam (web/static/ui.js)",
        "",
        *_table("Rules triage, SpamAssassin public corpus", report["rules"]),
        "",
    ]
    for split, llm in report["llm"].items():
        if "skipped" in llm:
            lines += [f"LLM triage ({split}): skipped, {llm['skipped']}", ""]
    measured = {split: llm for split, llm in report["llm"].items() if "skipped" not in llm}
    if measured:
        model = next(iter(measured.values()))["model"]
        lines += [
            *_table(f"LLM triage ({model['name']}, {model['sample']} sampled, half spam)", measured),
            "",
        ]
    if "content_cv" in report:
        lines += [*cv_lines(report["content_cv"]), ""]
    if "corrections_cv" in report:
        lines += [*corrections_lines(report["corrections_cv"]), ""]
    lines += _phrase_lines(report["deadline_phrases"])
    lines += _example_lines("Rules, dev", report["rules"]["dev"]["examples"])
    return "\n".join(lines)
