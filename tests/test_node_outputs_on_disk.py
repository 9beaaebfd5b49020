"""What happens to a node folder's outputs on disk: cleared (a link in data/ replaced, never
followed), set aside and restored, and a whole folder moved aside and back."""

from __future__ import annotations

from test_node_folders import make, read_identity

from fusionpipe_server.folders import node_folders as folders


def test_move_aside_hides_at_once_and_can_be_undone(tmp_path):
    folder = make(tmp_path)
    aside = folders.move_aside(folder)
    assert not folder.exists() and aside.name.startswith(".n_1.trash-")
    aside.rename(folder)
    assert read_identity(folder)["node_id"] == "n_1"


def test_clear_outputs_keeps_the_folder(tmp_path):
    folder = make(tmp_path)
    (folder / "data" / "sub" / "deeper").mkdir(parents=True)
    (folder / "data" / "sub" / "deeper" / "f").write_text("f")
    (folder / "data" / "sub").chmod(0o500)
    (folder / "data" / "file").write_text("f")
    (folder / "data" / "link").symlink_to(tmp_path)
    (folder / "data" / ".hidden").write_text("h")
    folders.clear_outputs(folder)
    assert (folder / "data").is_dir() and list((folder / "data").iterdir()) == []
    assert (folder / "code" / "main.py").exists() and tmp_path.exists()


def test_clear_outputs_replaces_a_data_link_without_following_it(tmp_path):
    folder = make(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep").write_text("keep")
    (folder / "data").rmdir()
    (folder / "data").symlink_to(elsewhere)
    folders.clear_outputs(folder)
    assert (folder / "data").is_dir() and not (folder / "data").is_symlink()
    assert (elsewhere / "keep").read_text() == "keep"


def test_outputs_set_aside_and_restored(tmp_path):
    folder = make(tmp_path)
    (folder / "data" / "out").write_text("1")
    aside = folders.set_aside_outputs(folder)
    assert list((folder / "data").iterdir()) == []
    folders.restore_outputs(folder, aside)
    assert (folder / "data" / "out").read_text() == "1" and not aside.exists()
