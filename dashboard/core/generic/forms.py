from collections.abc import Callable
from typing import Any

from django import forms

from dashboard.core.errors import InvalidInput

_WIDGET_CLASSES: dict[type[forms.Widget], str] = {
    forms.CheckboxInput: "form-check-input",
    forms.Select: "form-select",
    # Django puts these widgets' attributes on every box and on their container alike, so templates
    # render them choice by choice (generic/_field.html), never whole.
    forms.RadioSelect: "form-check-input",
    forms.CheckboxSelectMultiple: "form-check-input",
}


def checked(rule: Callable[..., Any], value: Any, **kwargs: Any) -> Any:
    """Run one of Berth's shared validation rules (the ones the services and the API use too) as a form
    field check: its message becomes the field's error."""
    try:
        return rule(value, **kwargs)
    except InvalidInput as error:
        raise forms.ValidationError(error.message, code=error.code) from None


class StyledForm(forms.Form):
    """Bootstrap classes on every widget, so templates render fields without per-form markup."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            _style(field)

    def add_field(self, name: str, field: forms.Field) -> forms.Field:
        """A field built at run time, styled like the declared ones."""
        self.fields[name] = _style(field)
        return field


def _style(field: forms.Field) -> forms.Field:
    css = _WIDGET_CLASSES.get(type(field.widget), "form-control")
    field.widget.attrs["class"] = f"{field.widget.attrs.get('class', '')} {css}".strip()
    return field


class TypedNameConfirmForm(StyledForm):
    """Deletions that lose data go ahead only after the operator types the object's name."""

    confirm_name = forms.CharField(label="Type the name to confirm", strip=True)

    def __init__(self, *args: Any, expected_name: str, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.expected_name = expected_name
        self.fields["confirm_name"].help_text = f"Type “{expected_name}” exactly."
        self.fields["confirm_name"].widget.attrs.update({"autocomplete": "off", "spellcheck": "false"})

    def clean_confirm_name(self) -> str:
        typed = self.cleaned_data["confirm_name"]
        if typed != self.expected_name:
            raise forms.ValidationError(
                f"This does not match “{self.expected_name}”: type the name exactly.", code="name_mismatch"
            )
        return typed
