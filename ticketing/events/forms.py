"""Back-office forms of the catalogue. Their moments are the venue's wall-clock times: the admin
reads and shows them in the venue's time zone (`ticketing.backoffice.local_time`)."""

import datetime as dt

from django import forms
from django.contrib.admin.widgets import AdminDateWidget, AdminSplitDateTime, AdminTimeWidget
from django.core.exceptions import ValidationError
from django.utils import timezone

from . import services
from .models import Event

WHEN_DESCRIPTION = (
    "Times are the venue’s local times, named beside each one: they are read in the time zone of "
    "the venue chosen above when you save. Moving the event to another venue keeps them as they "
    "read."
)


class EventAdminForm(forms.ModelForm):
    class Meta:
        model = Event
        fields = [
            "artist", "tour", "venue", "name", "slug", "starts_at", "doors_at", "on_sale_at",
            "off_sale_at", "is_published", "status", "hold_minutes",
        ]  # fmt: skip
        help_texts = {
            "slug": "The fan page’s address: /e/this-slug/. Left empty, it is made from the "
            "artist, the city and the local date, and it stays when they change.",
            "name": "Optional; the artist and the city if empty.",
            "doors_at": "Optional.",
            "on_sale_at": "When tickets go on sale; as soon as you save if empty.",
            "off_sale_at": "When sales close; the start of the show if empty.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "on_sale_at" in self.fields:
            self.fields["on_sale_at"].required = False
        if "slug" in self.fields and self.instance.pk is None:
            self.fields["slug"].required = False  # `services.save_event` makes one

    def clean_on_sale_at(self):
        return self.cleaned_data["on_sale_at"] or timezone.now().replace(microsecond=0)


class CopyDatesForm(forms.Form):
    """What the copies share: the template (chosen on a tour's page, given on an event's) and
    when their sales open."""

    template = forms.ModelChoiceField(queryset=Event.objects.none(), label="Copy")
    on_sale = forms.SplitDateTimeField(
        required=False,
        widget=AdminSplitDateTime,
        label="Sales open",
        help_text="The venue’s local time at each date. Empty: the template’s on-sale time, "
        "read at each venue.",
    )

    def __init__(self, *args, templates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["template"].queryset = templates
        if len(templates) == 1:
            self.fields["template"].widget = forms.HiddenInput()

    def clean_on_sale(self):
        # Typed as a wall-clock time for every venue at once: naive on purpose.
        moment = self.cleaned_data["on_sale"]
        return timezone.make_naive(moment) if moment else None


class DateRowForm(forms.Form):
    """One new date: a day, a start time and a venue, the time being the venue's. A row without
    a day is left out (its time and venue come prefilled from the template)."""

    date = forms.DateField(widget=AdminDateWidget, required=False)
    time = forms.TimeField(widget=AdminTimeWidget, required=False)
    venue = forms.ModelChoiceField(queryset=None, required=False)

    def __init__(self, *args, venues, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["venue"].queryset = venues

    def clean(self):
        data = super().clean()
        if data.get("date"):
            for name in ("time", "venue"):
                if not data.get(name) and name not in self.errors:
                    self.add_error(name, "Required for a new date.")
        return data


class BaseDateRowFormSet(forms.BaseFormSet):
    """The rows of new dates; valid, it holds the planned copies (`planned`)."""

    def __init__(self, *args, shared: CopyDatesForm, **kwargs):
        self.shared = shared
        self.planned: list[services.PlannedCopy] = []
        super().__init__(*args, **kwargs)

    def clean(self):
        """Plan each copy, so that a date that does not fit is refused on its own row."""
        self.planned = []
        if any(self.errors) or not self.shared.is_valid():
            return
        template, on_sale = (
            self.shared.cleaned_data["template"],
            self.shared.cleaned_data["on_sale"],
        )
        for form in self.forms:
            data = form.cleaned_data
            if not data.get("date"):
                continue
            try:
                self.planned.append(
                    services.plan_copy(
                        template,
                        venue=data["venue"],
                        starts=dt.datetime.combine(data["date"], data["time"]),
                        on_sale=on_sale,
                    )
                )
            except ValidationError as error:
                form.add_error(None, error.messages)
        if not self.planned and not any(self.errors):
            raise ValidationError("Fill in at least one date.")


DateRowFormSet = forms.formset_factory(DateRowForm, formset=BaseDateRowFormSet, extra=6)
