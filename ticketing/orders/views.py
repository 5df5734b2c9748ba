from django.shortcuts import render

from ticketing.events.selectors import published_event


def event_page(request, slug):
    event = published_event(slug)
    return render(request, "orders/event.html", {"event": event})
