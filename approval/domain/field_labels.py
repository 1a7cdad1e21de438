"""The Chinese names of the fields people fill in, as every refusal names them: the API's
``reason`` (beside the field's machine path in ``field``), the console's line and the command
line's. A path is the field's place in a request, its list positions left out:
``materials.0.code`` is labelled as ``materials.code``."""

from __future__ import annotations

FIELD_LABELS: dict[str, str] = {
    # the application (收件)
    "matter_code": "事项编码",
    "applicant": "申请人信息",
    "applicant.name": "申请人名称",
    "applicant.id_number": "证件号码",
    "applicant.phone": "联系电话",
    "materials": "申请材料",
    "materials.code": "材料编码",
    "materials.document_ref": "材料文件",
    "materials.sha256": "材料摘要",
    "channel": "收件渠道",
    "idempotency_key": "申请防重号（幂等键）",
    # the window's actions
    "reason": "理由",
    "competent_organ": "有权受理机关",
    "defective": "不符合法定形式的材料",
    "defective.code": "材料编码",
    "defective.reason": "补正要求",
    "amount_yuan": "收费金额",
    "receipt_no": "收据编号",
    "method": "送达方式",
    # the departments' opinions
    "outcome": "审查意见",
    "department": "审查部门",
    "reasons": "不予同意的理由",
    "items": "需补正的材料",
    "items.code": "材料编码",
    "items.reason": "补正要求",
    # the supervisor's procedures
    "procedure": "特别程序",
    "expected_wd": "预计工作日数",
    "result": "特别程序结果",
    "present": "出席部门",
    "absent": "缺席部门",
    "minutes": "会议纪要",
    "extend": "延长审批期限",
    # ratings, complaints and follow-ups (R20)
    "level": "评价等级",
    "comment": "评价意见",
    "concerns": "评价涉及的部门或窗口",
    "text": "投诉内容",
    "follow_up_no": "整改单编号",
    "explanation": "情况说明",
    "remedy": "整改措施",
    "check_code": "查询码",
    # the case and the request itself
    "case_no": "办件编号",
    "stage": "办理阶段",
    "actor": "操作人",
    "actor.role": "操作人角色",
    "authorization": "身份凭证",
    "kind": "操作类型",
    "body": "请求内容",
    "path": "请求地址",
    "query": "查询参数",
    "header": "请求头",
    "request": "请求",
    "input": "输入",
    "limit": "每页条数",
    "offset": "起始位置",
}
"""Every field a person gives, by its path in a request (list positions left out)."""

FORMAT_HINTS: dict[str, str] = {
    "applicant.id_number": "应为15至18位数字或大写字母（统一社会信用代码或公民身份号码）",
    "applicant.phone": "应为6至20位数字，可含“-”，可以“+”开头",
    "idempotency_key": "应为8至100位字母、数字或“_.:-”",
    "case_no": "应如 371600-20261128-000001",
    "materials.sha256": "应为64位小写十六进制字符",
    "follow_up_no": "应如 371600-20261128-000001-F01",
    "matter_code": "只能由字母、数字和“_.-”组成",
    "department": "只能由字母、数字和“_.-”组成",
}
"""What a well-formed value of a patterned field looks like, said when one is not."""


def label_path(field: str) -> str:
    """``field`` without its list positions: ``materials.0.code`` → ``materials.code``."""
    return ".".join(part for part in field.split(".") if not part.isdigit())


def field_label(field: str) -> str | None:
    """The Chinese name of ``field``; of its nearest named parent when it has none itself;
    None when neither has one (a field the engine does not know)."""
    path = label_path(field)
    while path:
        if path in FIELD_LABELS:
            return FIELD_LABELS[path]
        path = path.rpartition(".")[0]
    return None
