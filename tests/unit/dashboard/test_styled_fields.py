"""How the generic field template renders each kind of widget: choice lists are a group of real
checkboxes or radio buttons named by a legend, never boxes styled as text inputs (which drew the
wizard's namespace checkboxes as empty full-width bars)."""

import re

import pytest
from django import forms
from django.template.loader import render_to_string

from dashboard.core.generic.forms import StyledForm
from registry.forms import TargetForm

pytestmark = pytest.mark.unit


class Choices(StyledForm):
    teams = forms.MultipleChoiceField(
        label="Teams", choices=[("a", "Team A"), ("b", "Team B")], widget=forms.CheckboxSelectMultiple
    )
    mode = forms.ChoiceField(label="How", choices=[("trash", "To the trash"), ("now", "Now")], widget=forms.RadioSelect)
    agree = forms.BooleanField(label="I agree")
    name = forms.CharField(label="Name")


def classes_of(html: str, input_type: str) -> list[str]:
    return re.findall(rf'<input type="{input_type}"[^>]*class="([^"]*)"', html)


@pytest.mark.parametrize(("field", "input_type"), [("teams", "checkbox"), ("mode", "radio")])
def test_a_choice_list_is_a_fieldset_of_checkable_boxes(field, input_type):
    html = render_to_string("generic/_field.html", {"field": Choices()[field]})

    assert re.search(r"<fieldset>\s*<legend[^>]*>(Teams|How)</legend>", html)
    assert classes_of(html, input_type) == ["form-check-input", "form-check-input"]
    assert "form-control" not in html
    for box_id in re.findall(rf'<input type="{input_type}"[^>]*id="([^"]+)"', html):
        assert f'<label class="form-check-label" for="{box_id}">' in html


def test_text_and_single_checkbox_fields_keep_their_styles():
    form = Choices()
    assert classes_of(render_to_string("generic/_field.html", {"field": form["agree"]}), "checkbox") == [
        "form-check-input"
    ]
    assert 'class="form-control"' in render_to_string("generic/_field.html", {"field": form["name"]})


def test_the_wizard_namespace_checkboxes_are_check_inputs():
    html = render_to_string(
        "registry/_wizard_target.html",
        {"form": TargetForm(clusters=["local"], namespaces=["team-a", "team-b"]), "step": "target"},
    )
    assert classes_of(html, "checkbox") == ["form-check-input", "form-check-input"]
