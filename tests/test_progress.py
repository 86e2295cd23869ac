from a2.progress import progress


def test_plain_mode_prints_one_line_per_outer_step(monkeypatch, capsys):
    monkeypatch.setenv("A2_PROGRESS", "plain")
    bar = progress(range(3), desc="epochs")
    for i in bar:
        bar.set_postfix(loss=f"{i:.1f}")
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3 and lines[0].startswith("epochs 1/3") and lines[-1].endswith("loss=2.0")


def test_plain_mode_inner_loops_are_silent(monkeypatch, capsys):
    monkeypatch.setenv("A2_PROGRESS", "plain")
    assert list(progress([1, 2], desc="batches", inner=True)) == [1, 2]
    assert capsys.readouterr().out == ""


def test_bars_mode_is_tqdm(monkeypatch, tmp_path):
    monkeypatch.setenv("A2_PROGRESS", "bars")
    with open(tmp_path / "bar.txt", "w") as sink:
        bar = progress(range(2), desc="x", file=sink)
        assert type(bar).__name__.startswith("tqdm") and list(bar) == [0, 1]


def test_off_mode_and_manual_updates(monkeypatch, capsys):
    monkeypatch.setenv("A2_PROGRESS", "off")
    with progress(total=5, desc="stage") as bar:
        bar.update(5)
    assert capsys.readouterr().out == ""


def test_plain_mode_long_loops_print_about_ten_lines(monkeypatch, capsys):
    monkeypatch.setenv("A2_PROGRESS", "plain")
    assert sum(1 for _ in progress(range(1000), desc="rows")) == 1000
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 10 and lines[-1].startswith("rows 1000/1000")
