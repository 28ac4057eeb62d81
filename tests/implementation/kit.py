"""Helpers for the after-approval tests: a plan whose steps list app/a.py and app/b.py, approved
through the services as a user would approve it."""

from plans.models import Plan
from plans.services import plan_import_markdown, plan_submit
from tests.reviewkit import approve

PLAN = """\
# Implementation Plan - Split the app module

*Created: 2026-12-01*
*Status: PENDING_REVIEW*

## Problem Statement
The app module does two jobs and every change to one breaks the other.

## Current State Analysis
### Existing System
- app/main.py parses and writes

## Proposed Solution
### High-Level Approach
- One module per job

## Implementation Steps

### Step 1: Move the parser
**Objective**: The parser lives in app/a.py
**Actions**:
- [ ] Move the parser
- [ ] Update its imports

**Files to Modify/Create**:
- `app/a.py` - the parser

**Dependencies**: None
**Estimated Time**: 2 hours
**Risk Level**: Low

### Step 2: Move the writer
**Objective**: The writer lives in app/b.py
**Actions**:
- [ ] Move the writer

**Files to Modify/Create**:
- `app/b.py` - the writer
- `tests/**` - their tests

**Dependencies**: Step 1
**Estimated Time**: 2 hours
**Risk Level**: Low

## Testing Strategy
### Unit Testing
- The parser and the writer each have their tests

## Risk Assessment
### Low Risk Items
- Imports elsewhere still point at app/main.py

## Success Criteria
- [ ] The parser and the writer import nothing from each other
- [ ] The test suite passes

## Rollback Plan
### If Implementation Fails
- Revert the branch
"""

#: PLAN with a third step that plans app/c.py (the amendment).
AMENDED = PLAN.replace("## Testing Strategy", """\
### Step 3: Shared helpers
**Objective**: What both need lives in app/c.py
**Actions**:
- [ ] Move the helpers

**Files to Modify/Create**:
- `app/c.py` - shared helpers

**Dependencies**: Step 1
**Estimated Time**: 1 hour
**Risk Level**: Low

## Testing Strategy""")


def approved_plan(author, reviewer, text: str = PLAN) -> Plan:
    plan = plan_import_markdown(actor=author, text=text)
    plan_submit(actor=author, plan=plan)
    approve(plan, reviewer)
    plan.refresh_from_db()
    return plan
