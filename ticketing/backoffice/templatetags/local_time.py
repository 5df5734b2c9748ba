from django import template

from ticketing.backoffice import local_time

register = template.Library()

register.inclusion_tag("admin/date_hierarchy.html")(local_time.local_date_hierarchy)
