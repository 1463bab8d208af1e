// --tags / --skip-tags selection, with Ansible's special tags:
//   always   runs unless skipped explicitly (--skip-tags always, or one of its other tags)
//   never    runs only when one of its tags is asked for (--tags never, or its other tag)
//   all      (the default of --tags) every task not tagged never
//   tagged / untagged   tasks with / without any tag
// The logic mirrors Ansible's Taggable.evaluate_tags so existing habits carry over.

export interface TagFilter {
  tags?: readonly string[];
  skipTags?: readonly string[];
}

export function shouldRunTags(taskTags: readonly string[], filter: TagFilter): boolean {
  const tags = new Set(taskTags.length ? taskTags : ['untagged']);
  const only = new Set(filter.tags?.length ? filter.tags : ['all']);
  const skip = new Set(filter.skipTags ?? []);
  const isUntagged = taskTags.length === 0;
  const meets = (set: Set<string>) => [...tags].some((t) => set.has(t));

  let run: boolean;
  if (tags.has('always')) run = true;
  else if (only.has('all') && !tags.has('never')) run = true;
  else if (meets(only)) run = true;
  else if (only.has('tagged') && !isUntagged && !tags.has('never')) run = true;
  else run = false;

  if (run && skip.size) {
    if (skip.has('all')) {
      if (!tags.has('always') || skip.has('always')) run = false;
    } else if (meets(skip)) run = false;
    else if (skip.has('tagged') && !isUntagged) run = false;
  }
  return run;
}
