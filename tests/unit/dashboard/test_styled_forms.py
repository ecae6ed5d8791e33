"""Bootstrap classes on the generic forms' widgets: a text box gets `form-control`, a choice list
(radio buttons, checkboxes) never does, since Django repeats a list's class on every choice."""

import re

import pytest
from django import forms

from dashboard.core.generic.forms import StyledForm

pytestmark = pytest.mark.unit


class Pick(StyledForm):
    name = forms.CharField()
    namespaces = forms.MultipleChoiceField(
        choices=[("team-a", "team-a"), ("team-b", "team-b")], widget=forms.CheckboxSelectMultiple
    )
    kind = forms.ChoiceField(choices=[("x", "x"), ("y", "y")], widget=forms.RadioSelect)


def test_text_inputs_are_form_controls():
    assert 'class="form-control"' in str(Pick()["name"])


@pytest.mark.parametrize("field", ["namespaces", "kind"])
def test_no_choice_of_a_list_is_styled_as_a_text_box(field):
    rendered = str(Pick()[field])
    inputs = re.findall(r"<input[^>]*>", rendered)
    assert len(inputs) == 2
    assert "form-control" not in rendered, rendered
