"""The CLI's own messages about the operator's input, in Chinese (the default) and English
(`--lang en`). Developer diagnostics (tracebacks, unexpected errors) are not translated.

Each entry is a pair (zh, en) of format strings taking the same named fields."""

LANGUAGES = ("zh", "en")

MESSAGES = {
    "password_short": ("桌面登录密码至少 10 个字符", "a desk password has at least 10 characters"),
    # errors: how they are introduced
    "error": ("错误", "error"),
    "refused": ("拒绝执行（{rule}）：{message}", "refused by {rule}: {message}"),
    "file_refused": ("{file} 未被接受：共 {count} 处错误{more}，文件整体未导入；"
                     "请全部改正后重新提交：",
                     "{file} refused: {count} error(s){more}, nothing was imported; fix them "
                     "all and submit again:"),
    "more_not_read": ("（另有未读出的错误）", " (and more not read)"),
    "the_file": ("文件", "the file"),
    "rule": ("规则", "rule"),
    "usage": ("命令行有误：{message}（用 {prog} --help 查看用法）",
              "{message} (see {prog} --help)"),
    "unavailable": ("无法连接{what}（{where}）：{reason}；请检查服务是否已启动、配置是否正确",
                    "cannot reach the {what} at {where}: {reason}; is it running, and is the "
                    "configuration right?"),
    "broker": ("消息服务 RabbitMQ", "broker (RabbitMQ)"),
    "database": ("数据库 PostgreSQL", "database (PostgreSQL)"),
    "service_down": ("服务 {service} 未在运行（消息服务中没有它的队列）",
                     "the service {service} is not running (the broker has no queue for it)"),
    "no_answer": ("{service} 在 {seconds} 秒内没有答复；命令（{command_id}）可能仍会生效："
                  "请用同一个 --command-id {command_id} 再运行一次，得到它的结果（不会执行两次）",
                  "no answer from {service} within {seconds} s; the command ({command_id}) may "
                  "still take effect: run it again with --command-id {command_id} to get its "
                  "outcome (it will not take effect twice)"),
    "no_such_file": ("{file}：文件不存在", "{file}: no such file"),
    "no_operator": ("未指定操作员：请用 --operator ID 或设置 PINGGU_OPERATOR",
                    "no operator given: use --operator ID or set PINGGU_OPERATOR"),
    # commands
    "no_institutions": ("辖区 {jurisdiction} 没有纳入评估范围的机构",
                        "no institution in scope in jurisdiction {jurisdiction}"),
    "none_rectifying": ("辖区 {jurisdiction} 没有处于整改期的机构，无需 {kind} 模板",
                        "no institution of jurisdiction {jurisdiction} is under "
                        "rectification: no {kind} template to write"),
    "not_filed": ("统一社会信用代码 {uscc} 没有备案机构",
                  "no institution with USCC {uscc} is filed"),
    "not_filed_on": ("截至 {date}，统一社会信用代码 {uscc} 没有备案机构",
                     "no institution with USCC {uscc} is filed on {date}"),
    "no_case": ("统一社会信用代码 {uscc} 没有案卷", "no case with USCC {uscc}"),
    "unsafe_name": ("服务端给出的文件名 {name} 不是普通的相对路径：未写入任何文件",
                    "the server sent the file name {name}, which is not a plain relative "
                    "name: nothing was written"),
    "outside": ("{name} 会写到 {directory} 之外（符号链接）：未写入",
                "{name} would be written outside {directory} (a symbolic link): nothing "
                "was written for it"),
    "restore_yes": ("恢复会新建数据库并重新发布全部事件：请加 --yes 确认",
                    "restore creates the database and republishes every event: give --yes"),
    "credential_exists": ("{path}：已有凭据文件，不会覆盖",
                          "{path}: a credential is already there; it is never overwritten"),
    "rotation_left": ("{path}：上次轮换未完成留下的文件，请先删除",
                      "{path}: left by an unfinished rotation; remove it first"),
    "no_such_operator": ("操作员目录中没有 {id}", "no operator {id!r} in the directory"),
    "no_checkpoint": ("{paths} 中没有检查点", "no checkpoint in {paths}"),
}


def say(key, lang="zh", **fields):
    """The message `key` in `lang`, its fields filled in."""
    zh, en = MESSAGES[key]
    return (en if lang == "en" else zh).format(**fields)


def bad_input(key, *, file=None, **fields):
    """A BadInput carrying the message in both languages."""
    from shared.errors import BadInput
    return BadInput(say(key, "en", **fields), message_zh=say(key, "zh", **fields),
                    file=file)
